import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoginGuard } from '../src/auth/index.js';
import { ProcessCounters, ProcessMaildropLocks, RpcChannel, type Endpoint } from '../src/processes/index.js';

const PEER = fileURLToPath(new URL('./helpers/node-state-peer.js', import.meta.url));

/**
 * A session worker's view of the node state (ProcessCounters, ProcessMaildropLocks) against
 * the main process's (MemoryCounters, MaildropLockTable) in another process, over the real
 * IPC channel; the main process stopped with SIGSTOP to show the deadlines.
 */
describe("a session worker's shared counts and maildrop locks, kept by the main process", () => {
  let peer: ChildProcess;
  let main: RpcChannel;

  before(async () => {
    peer = fork(PEER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    await new Promise((r) => peer.once('message', r));
    main = new RpcChannel(peer as unknown as Endpoint);
  });
  after(() => {
    main.close();
    peer.kill('SIGKILL');
  });

  test('counts: what the worker adds, per key and bucket, comes back from the main process; buckets before `since` do not; a key can be forgotten', async () => {
    const counters = new ProcessCounters(main);
    const t0 = 1_000_000_000;
    await counters.add(['k1', 'k2'], 1, t0, 1000);
    await counters.add(['k1'], 2, t0 + 500, 1000);
    await counters.add(['k1'], 4, t0 + 1500, 1000);
    const got = await counters.buckets(['k1', 'k2', 'k3'], t0 - 1, 1000);
    assert.deepEqual(got.get('k1'), [[t0, 3], [t0 + 1000, 4]]);
    assert.deepEqual(got.get('k2'), [[t0, 1]]);
    assert.equal(got.has('k3'), false);
    assert.deepEqual((await counters.buckets(['k1'], t0, 1000)).get('k1'), [[t0 + 1000, 4]]);
    await counters.forget('k1');
    assert.equal((await counters.buckets(['k1'], 0, 1000)).has('k1'), false);
  });

  test("failed logins another process counted refuse the address here once pulled", async () => {
    const options = { maxFailuresPerIp: 10, maxFailuresPerAccount: 3, windowMs: 60_000 };
    const elsewhere = new LoginGuard(options, new ProcessCounters(main));
    const here = new LoginGuard(options, new ProcessCounters(main), (err) => assert.fail(String(err)));
    const now = Date.now();
    for (let i = 0; i < 3; i++) elsewhere.failed('192.0.2.9', 'w@x.test', now);
    await new ProcessCounters(main).buckets([], 0, 1000); // the adds went first on the same channel
    assert.equal(here.blockedFor('192.0.2.9', 'w@x.test', now), 0, 'not before it asks');
    await here.pull('192.0.2.9', 'w@x.test', now);
    assert.ok(here.blockedFor('192.0.2.9', 'w@x.test', now) > 0);
  });

  test('locks: one session per maildrop across the processes of the node; released, it can be taken again', async () => {
    const locks = new ProcessMaildropLocks(main, (err) => assert.fail(String(err)));
    assert.equal(await locks.acquire(7), true);
    assert.equal(await locks.acquire(7), false, 'a second session in this worker');
    assert.equal(await main.call('other.acquire', [7], 1000), false, 'a session of another process');
    assert.equal(await main.call('other.acquire', [8], 1000), true, 'another maildrop is free');
    assert.equal(await locks.acquire(8), false, "the other process's maildrop");
    await locks.release(7);
    assert.equal(await main.call('other.acquire', [7], 1000), true, 'released here, the other process takes it');
    await main.call('other.release', [7], 1000);
    await main.call('other.release', [8], 1000);
  });

  test('a main process that does not answer: the lock is taken here within the deadline, said once; a grant that comes late is given back', async () => {
    const errors: string[] = [];
    const locks = new ProcessMaildropLocks(main, (err) => errors.push(String(err)));
    peer.kill('SIGSTOP');
    try {
      const started = Date.now();
      assert.equal(await locks.acquire(9), true, 'this worker locks by itself meanwhile');
      assert.ok(Date.now() - started < 3000, 'within the deadline');
      assert.equal(await locks.acquire(10), true, 'the next one without asking again');
      assert.equal(errors.length, 1, 'told once');
      assert.match(errors[0]!, /no answer within/);
    } finally {
      peer.kill('SIGCONT');
    }
    // The main process then saw the acquire for 9 and the release after it: nothing is left held.
    assert.equal(await main.call('other.acquire', [9], 2000), true, 'the late grant was given back');
    await main.call('other.release', [9], 1000);
    await locks.release(9);
    await locks.release(10);
  });
});
