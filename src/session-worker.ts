/**
 * Entry of a session worker process (wiring, like wiring.ts): the main process forks it
 * (readers.processes) and hands it new POP3 and IMAP connections in turn. It opens its own
 * stores and directory cache and serves sessions on a core of its own. Failed-login counts
 * and maildrop locks it shares through the main process (through the database on
 * PostgreSQL). Messages: 'start' (with the configuration), 'connection' (a socket, its
 * protocol and whether TLS is implicit); it answers `metrics` calls; SIGTERM or losing the
 * main process ends it gracefully.
 */
import type { Socket } from 'node:net';
import type { Config } from './config/index.js';
import { DirectoryCache } from './directory/index.js';
import { Metrics, createLogger } from './observability/index.js';
import { ProcessCounters, ProcessMaildropLocks, RpcChannel, writesThroughMain, type Endpoint } from './processes/index.js';
import { loadOrCreateTls } from './servers/index.js';
import { loginsFor, startReaders, type Readers } from './wiring-readers.js';
import { openClusterState, openDirectoryStore, openPortalState, serviceMailStore } from './wiring-stores.js';

// Recording last logins waits this little for another process's write lock (as the main process).
const LOGIN_STATE_BUSY_TIMEOUT_MS = 100;

const main = new RpcChannel(process as unknown as Endpoint);
let readers: Readers | undefined;

process.on('message', (m: { type?: string; init?: { config: Config }; protocol?: string; secure?: boolean }, handle?: unknown) => {
  if (m.type === 'connection') {
    const socket = handle as Socket | undefined;
    const server = readers?.servers.get(m.protocol!);
    if (server && socket) server.accept(socket, m.secure === true);
    else socket?.destroy();
  } else if (m.type === 'start') {
    const config = m.init!.config;
    start(config).catch((err: unknown) => {
      createLogger(config['log.level']).error({ err, worker: process.pid }, 'session worker could not start');
      process.exit(1);
    });
  }
});

async function start(config: Config): Promise<void> {
  const log = createLogger(config['log.level']).child({ worker: process.pid });
  const metrics = new Metrics();
  const directoryStore = openDirectoryStore(config, true);
  const directory = new DirectoryCache(directoryStore, config['directory.refreshMs'], log.child({ mod: 'directory' }), config['postmaster.mailbox']);
  await directory.start();
  const ownStore = serviceMailStore(config, true, log);
  // On the embedded store, sessions' writes go through the main process (see writesThroughMain).
  const mailStore = config['storage.mailstore'] === 'sqlite' ? writesThroughMain(ownStore, main) : ownStore;
  const loginState = openPortalState(config, LOGIN_STATE_BUSY_TIMEOUT_MS);
  const cluster = openClusterState(config, loginState, log.child({ mod: 'cluster' }));
  const counters = cluster?.counters ?? new ProcessCounters(main);
  const locks = cluster?.locks ?? new ProcessMaildropLocks(main, (err) => log.warn({ err }, 'POP3 maildrop lock not taken by the main process; this worker locks by itself meanwhile'));
  const logins = loginsFor(config, directory, loginState, counters, log);
  const tls = await loadOrCreateTls(config.dataDir, config.hostname, config['tls.cert'], config['tls.key']);
  const started = await startReaders(config, { authenticator: logins.authenticator, mailStore, tls, log, metrics, locks }, false);
  readers = started;
  main.serve({ metrics: () => metrics.snapshot() });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await started.close();
      await logins.stop();
      await cluster?.close();
      await loginState.close();
      directory.stop();
      await ownStore.close();
      await directoryStore.close();
    })()
      .catch((err: unknown) => log.error({ err }, 'session worker stop failed'))
      .finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.send!({ type: 'ready' });
}
