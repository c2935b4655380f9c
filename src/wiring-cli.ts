/**
 * Wiring of the queue-managing commands (hikyaku queue hold|release|retry|delete), beside
 * wiring.ts: the spool, a directory cache (to know whether a sender is hosted, for DSNs),
 * and the audit log, DATA_DIR/audit.log, one JSON line per command.
 */
import { appendFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config/index.js';
import type { QueueManagement } from './cli/index.js';
import { DirectoryCache } from './directory/index.js';
import { deletedByOperatorDsn } from './delivery/index.js';
import { createLogger } from './observability/index.js';
import { openDirectoryStore, openSpool } from './wiring.js';

export async function openQueueManagement(config: Config): Promise<QueueManagement & { close(): Promise<void> }> {
  const spool = openSpool(config);
  const store = openDirectoryStore(config);
  const directory = new DirectoryCache(store, config['directory.refreshMs'], createLogger('silent'), config['postmaster.mailbox']);
  await directory.start();
  directory.stop();
  return {
    spool,
    // host:pid first, as every lease owner: a CLI killed mid-delete has its leases handed back by the next start.
    owner: `${hostname()}:${process.pid}:cli`,
    dsnForDeleted: (entry) => deletedByOperatorDsn(spool, directory, config.hostname, entry),
    audit: (record) => appendFileSync(join(config.dataDir, 'audit.log'), `${JSON.stringify({ at: new Date().toISOString(), user: userInfo().username, ...record })}\n`),
    async close() {
      await spool.close();
      await store.close();
    },
  };
}
