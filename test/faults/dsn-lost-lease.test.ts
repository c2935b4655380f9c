import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteSpool } from '../../src/backends/sqlite/index.js';
import { LeaseKeeper, RemoteDelivery, SmtpRelay } from '../../src/delivery/index.js';
import type { RecipientDirectory } from '../../src/directory/index.js';
import { Metrics } from '../../src/observability/index.js';
import { startRemoteSmtp } from '../helpers/remote-smtp.js';
import { freePort, removeDir, tempDir } from '../helpers/service.js';

/**
 * Two recipients of one message refused by the remote: they share one DSN, queued with a
 * bounce step. When the first entry's lease was lost meanwhile, its bounce is refused, and
 * the DSN must ride on the next one, not vanish with the refused step.
 */
test('a group bounce whose first lease was lost still queues its DSN', async () => {
  const dir = tempDir();
  const port = await freePort();
  const remote = await startRemoteSmtp('127.0.0.1', port, join(dir, 'remote-tls'), { rcpt: () => '550 5.1.1 no such user' });
  const spool = new SqliteSpool(join(dir, 'spool'), false);
  const log = pino({ level: 'silent' });
  const keeper = new LeaseKeeper(spool, 60_000, log);
  try {
    const relay = new SmtpRelay(new Resolver(), { hostname: 'mx.test', port, smarthost: `127.0.0.1:${port}`, smarthostUser: '', smarthostPassword: '', maxConnectionsPerDestination: 2, connectTimeoutMs: 5000, connectionCacheMs: 0, replyTimeoutMs: 5000 }, log);
    // Nothing here is hosted and no domain signs: the DSN goes out by relay too.
    const directory = { loaded: true, isHostedDomain: () => false, dkimKey: () => undefined } as unknown as RecipientDirectory;
    const remoteDelivery = new RemoteDelivery(spool, directory, relay, { owner: 'w', hostname: 'mx.test', leaseMs: 60_000, retryBaseMs: 1000, retryMaxMs: 1000, maxAgeMs: 86_400_000, delayWarningMs: 86_400_000 }, log, new Metrics());
    const writer = await spool.begin();
    await writer.write(Buffer.from('From: sender@client.test\r\nSubject: two\r\n\r\nbody\r\n'));
    await writer.commit({ mailFrom: 'sender@client.test', recipients: ['x@far.test', 'y@far.test'], remote: ['x@far.test', 'y@far.test'], smtputf8: false });
    const [first, second] = await spool.lease('w', 10, 60_000, 'remote');
    // The first lease is lost (here: settled by someone else) before the relay answers.
    assert.equal(await spool.defer(first!, 'taken elsewhere', Date.now() + 60_000), true);
    await remoteDelivery.deliver([first!, second!], keeper);
    const dsns = (await spool.list(100)).filter((e) => e.mailFrom === '' && e.rcpt === 'sender@client.test');
    assert.equal(dsns.length, 1, 'one DSN queued, with the second bounce');
    assert.ok(!(await spool.list(100)).some((e) => e.rcpt === 'y@far.test'), 'the second entry bounced');
  } finally {
    keeper.stop();
    await spool.close();
    await remote.close();
    removeDir(dir);
  }
});
