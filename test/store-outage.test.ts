import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInjectingMailStore } from '../src/mailstore/index.js';
import { SmtpClient, testMessage } from './helpers/smtp-client.js';
import { mailboxMessages, removeDir, seedDirectory, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';

/** Sends `n` messages over `connections` connections; returns the ids that got 250 and the latencies. */
async function sendMany(port: number, to: string[], n: number, connections: number, prefix: string): Promise<{ accepted: string[]; ms: number[] }> {
  const accepted: string[] = [];
  const ms: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = await SmtpClient.open(port);
      while (next < n) {
        const id = `${prefix}-${next++}`;
        const r = await c.send('s@client.test', [to[next % to.length]!], testMessage(id, 2048));
        if (r.reply.code === 250) {
          accepted.push(id);
          ms.push(r.ms);
        }
      }
      await c.quit();
    }),
  );
  return { accepted, ms };
}

describe('the mailbox store fails or hangs: SMTP keeps accepting, nothing is lost', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let ids: Map<string, number>;
  const total = async () => {
    let n = 0;
    for (const id of ids.values()) n += (await t.service.mailStore.list(id)).length;
    return n;
  };

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'delivery.storeTimeoutMs': 300 }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    ids = await seedDirectory(t.directoryStore, 'example.com', ['u1', 'u2', 'u3', 'u4']);
    await t.service.directory.refresh();
  });

  after(async () => {
    faulty.setFault({ kind: 'none' });
    await t.stop();
    removeDir(dir);
  });

  test('store hangs: every message still gets 250; after recovery all are delivered once', async () => {
    faulty.setFault({ kind: 'hang' });
    const { accepted } = await sendMany(t.port, [...ids.keys()], 200, 8, 'hang');
    assert.equal(accepted.length, 200, 'all 200 messages accepted while the store hangs');
    assert.equal(await total(), 0, 'nothing could be delivered while the store hangs');
    assert.ok(faulty.appendCalls > 0, 'delivery did try the store');
    const queued = await t.service.spool.stats();
    assert.equal(queued.byState.queued + queued.byState.deferred + queued.byState.active, 200);

    faulty.setFault({ kind: 'none' });
    assert.ok(await waitFor(async () => (await total()) === 200, 60_000), 'all delivered after recovery');
    assert.ok(await waitFor(async () => (await t.service.spool.stats()).byState.deferred === 0 && (await t.service.spool.stats()).byState.active === 0, 10_000));
    const seen = new Set<string>();
    for (const id of ids.values()) {
      for (const m of await mailboxMessages(t.service.mailStore, id)) {
        const tid = /X-Test-Id: (\S+)/.exec(m)![1]!;
        assert.ok(!seen.has(tid), `duplicate ${tid}`);
        seen.add(tid);
      }
    }
    assert.deepEqual([...seen].sort(), [...accepted].sort());
  });

  test('store fails: entries are deferred with backoff, not dropped, and delivered on recovery', async () => {
    const before = await total();
    faulty.setFault({ kind: 'fail' });
    const { accepted } = await sendMany(t.port, [...ids.keys()], 50, 4, 'fail');
    assert.equal(accepted.length, 50);
    assert.ok(await waitFor(async () => (await t.service.spool.stats()).byState.deferred > 0, 10_000), 'entries deferred');
    const callsWhileFailing = faulty.appendCalls;
    await new Promise((r) => setTimeout(r, 500));
    // The circuit breaker and backoff keep the failing store from being hammered:
    // far fewer calls than one per entry per poll.
    assert.ok(faulty.appendCalls - callsWhileFailing < 50, `store called ${faulty.appendCalls - callsWhileFailing} times in 0.5 s while failing`);
    assert.equal(await total(), before);
    faulty.setFault({ kind: 'none' });
    assert.ok(await waitFor(async () => (await total()) === before + 50, 60_000), 'all delivered after recovery');
  });

  test('a recipient removed after acceptance is retried, then bounced with a DSN to the sender, never lost', async () => {
    const extra = await seedDirectory(t.directoryStore, 'example.com', ['leaving']);
    await t.service.directory.refresh();
    // 'fail', not 'hang': a hung append still in flight would complete after recovery.
    faulty.setFault({ kind: 'fail' });
    const { accepted } = await sendMany(t.port, ['leaving@example.com'], 1, 1, 'removed');
    assert.equal(accepted.length, 1);
    await t.directoryStore.removeAccount('leaving@example.com');
    await t.service.directory.refresh();
    faulty.setFault({ kind: 'none' });
    // The sender is elsewhere, so the DSN waits in the queue for relay (no DNS in this test).
    const dsn = async () => (await t.service.spool.list(100)).find((e) => e.mailFrom === '' && e.rcpt === 's@client.test' && e.route === 'remote');
    assert.ok(await waitFor(async () => (await dsn()) !== undefined, 20_000), JSON.stringify(await t.service.spool.list(100)));
    assert.ok(!(await t.service.spool.list(100)).some((e) => e.rcpt === 'leaving@example.com'), 'the bounced entry left the queue');
    assert.equal((await t.service.mailStore.list(extra.get('leaving@example.com')!)).length, 0);
  });
});
