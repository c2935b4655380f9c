import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInjectingMailStore } from '../../src/mailstore/index.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { mailboxMessages, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from '../helpers/service.js';

/**
 * Local delivery has a queue lifetime like relay: a store that keeps failing earns the
 * sender one delay warning, then, past the lifetime, a bounce; a mailbox over quota
 * bounces with 5.2.2 after its own grace time. Here on a compressed schedule.
 */
describe('local mail that cannot be delivered expires with DSNs', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let ids: Map<string, number>;

  before(async () => {
    dir = tempDir();
    t = await startTestService(
      dir,
      { 'delivery.quotaGraceSeconds': 2, 'delivery.delayWarningSeconds': 1, 'delivery.maxQueueSeconds': 4, 'delivery.retryBaseMs': 200, 'delivery.retryMaxMs': 400 },
      { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) },
    );
    ids = await seedDirectory(t.directoryStore, 'local.test', ['sender', 'full', 'fine']);
    await t.directoryStore.setQuota('full@local.test', 600);
    await t.service.directory.refresh();
  });

  after(async () => {
    faulty.setFault({ kind: 'none' });
    await t.stop();
    removeDir(dir);
  });

  const send = async (to: string, id: string) => {
    const c = await SmtpClient.open(t.port);
    const r = await c.send('sender@local.test', [to], testMessage(id, 2048));
    await c.quit();
    return r.reply.code;
  };
  const dsns = async () => (await mailboxMessages(t.service.mailStore, ids.get('sender@local.test')!)).filter((m) => /Content-Type: multipart\/report/i.test(m));

  test('over quota: retried during the grace time, then bounced to the sender with 5.2.2', async () => {
    assert.equal(await send('full@local.test', 'too-big'), 250);
    assert.ok(await waitFor(async () => (await t.service.spool.list(10)).some((e) => e.rcpt === 'full@local.test' && e.state === 'deferred'), 5000), 'deferred first');
    assert.ok(await waitFor(async () => (await dsns()).some((m) => /Status: 5\.2\.2/.test(m)), 15_000), 'a 5.2.2 DSN reached the sender');
    assert.ok(!(await t.service.spool.list(10)).some((e) => e.rcpt === 'full@local.test'), 'the entry left the queue');
    assert.equal((await t.service.mailStore.list(ids.get('full@local.test')!)).length, 0);
  });

  test('a store that keeps failing: one delay warning, then a bounce past the queue lifetime', async () => {
    const before = (await dsns()).length;
    // Only appends fail: the DSNs to the sender could not be delivered either, so watch the queue.
    faulty.setFault({ kind: 'fail' });
    assert.equal(await send('fine@local.test', 'never-stored'), 250);
    const notices = async () => (await t.service.spool.list(100)).filter((e) => e.mailFrom === '' && e.rcpt === 'sender@local.test');
    assert.ok(await waitFor(async () => (await notices()).length === 1, 10_000), 'a delay warning is queued after a second');
    assert.ok((await t.service.spool.list(100)).some((e) => e.rcpt === 'fine@local.test'), 'the message itself is still queued');
    assert.ok(await waitFor(async () => !(await t.service.spool.list(100)).some((e) => e.rcpt === 'fine@local.test'), 15_000), 'gone from the queue past its lifetime');
    faulty.setFault({ kind: 'none' });
    assert.ok(await waitFor(async () => (await dsns()).length === before + 2, 15_000), 'both DSNs reached the sender once the store works');
    const [delayed, failed] = (await dsns()).slice(before).sort((a, b) => (/Action: delayed/.test(a) ? -1 : 1) - (/Action: delayed/.test(b) ? -1 : 1));
    assert.match(delayed!, /Action: delayed/);
    assert.match(failed!, /Action: failed[\s\S]*Status: 5\.4\.7/);
    assert.equal((await t.service.mailStore.list(ids.get('fine@local.test')!)).length, 0);
  });
});
