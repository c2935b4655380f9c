import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from '../helpers/service.js';
import { startRemoteSmtp } from '../helpers/remote-smtp.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A remote server whose every reply comes in time but whose whole transaction outlasts
 * the queue lease: the lease is renewed while the transaction runs, so no second worker
 * (nor the same one) takes the entry again and sends the message a second time.
 */
describe('a remote transaction longer than the queue lease', () => {
  let dir: string;
  let t: TestService;
  let remote: Awaited<ReturnType<typeof startRemoteSmtp>>;
  // Transactions the remote saw, finished or not: a second one is a duplicate in the making.
  let rcptSeen = 0;

  before(async () => {
    dir = tempDir();
    const port = await freePort();
    remote = await startRemoteSmtp('127.0.0.2', port, dir + '/remote-tls', { delayMs: 700, rcpt: () => void rcptSeen++ });
    t = await startTestService(dir, { 'relay.smarthost': `127.0.0.2:${port}`, 'delivery.leaseMs': 1000, 'relay.replyTimeoutMs': 900, 'relay.connectTimeoutMs': 900, 'delivery.storeTimeoutMs': 900 });
    await seedDirectory(t.directoryStore, 'hosted.test', ['fwd']);
    await t.directoryStore.setForward('fwd@hosted.test', ['target@remote.test'], false);
    await t.service.directory.refresh();
  });

  after(async () => {
    await t.stop();
    await remote.close();
    removeDir(dir);
  });

  test('the message reaches the remote once, and its entry leaves the queue', async () => {
    const c = await SmtpClient.open(t.port);
    assert.equal((await c.send('s@client.test', ['fwd@hosted.test'], testMessage('slow', 1024))).reply.code, 250);
    await c.quit();
    assert.ok(await waitFor(() => remote.received.length >= 1, 20_000), 'relayed');
    assert.ok(await waitFor(async () => (await t.service.spool.list(10)).length === 0, 20_000), 'the queue is empty');
    // Time for a second, concurrent transaction (started when the lease ran out) to finish.
    await sleep(3000);
    assert.equal(remote.received.length, 1, 'received exactly once');
    assert.equal(rcptSeen, 1, 'one transaction only');
  });
});
