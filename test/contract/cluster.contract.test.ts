import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import pg from 'pg';
import { LoginGuard } from '../../src/auth/index.js';
import { SendingLimits } from '../../src/inbound/index.js';
import { HikyakuError } from '../../src/mail/index.js';
import { appendInput, removeDir, tempDir } from '../helpers/service.js';
import { TEST_PG_URL, dropSchemas, pgStoreUrl } from '../helpers/postgres.js';
import { PgMaildropLocks, PgPortalState, channelOf } from '../../src/backends/postgres/index.js';
import { FaultProxy } from '../../src/servers/index.js';

/** The schema the harness gives a test directory's PostgreSQL stores. */
const schemaOf = (dir: string) => pgStoreUrl(basename(dir)).schema;
import { backendsWith } from './backends.js';

/** Two nodes' shared state on one fresh store, closed after `body`. */
async function twoNodes<N extends { close(): Promise<void> }>(open: (dir: string) => N, body: (a: N, b: N, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const a = open(dir);
  const b = open(dir);
  try {
    await body(a, b, dir);
  } finally {
    await Promise.all([a.close(), b.close()]);
    removeDir(dir);
  }
}

/** Resolves when `poll` holds, checked every 20 ms; fails after `ms`. */
async function eventually(what: string, poll: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (await poll()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what} did not happen within ${ms} ms`);
}

for (const backend of backendsWith('cluster', 'Shared counters and maildrop locks contract')) {
  describe(`Shared counters and maildrop locks contract: ${backend.name}`, () => {
    test('counters: what one node adds the other counts, per key and bucket; a key can be forgotten', async () => {
      await twoNodes(backend.cluster, async ({ counters: a }, { counters: b }) => {
        const t0 = 1_000_000_000;
        await a.add(['k1', 'k2'], 1, t0, 1000);
        await b.add(['k1'], 2, t0 + 500, 1000);
        await b.add(['k1'], 4, t0 + 1500, 1000);
        const got = await a.buckets(['k1', 'k2', 'k3'], t0 - 1, 1000);
        assert.deepEqual(got.get('k1'), [[t0, 3], [t0 + 1000, 4]]);
        assert.deepEqual(got.get('k2'), [[t0, 1]]);
        assert.equal(got.has('k3'), false);
        assert.deepEqual((await b.buckets(['k1'], t0, 1000)).get('k1'), [[t0 + 1000, 4]], 'only buckets after `since`');
        await b.forget('k1');
        assert.equal((await a.buckets(['k1'], 0, 1000)).has('k1'), false);
      });
    });

    test('failed logins on one node count on the other: its guard refuses the address too', async () => {
      await twoNodes(backend.cluster, async ({ counters: a }, { counters: b }) => {
        const options = { maxFailuresPerIp: 10, maxFailuresPerAccount: 3, windowMs: 60_000 };
        const guardA = new LoginGuard(options, a);
        const guardB = new LoginGuard(options, b, (err) => assert.fail(String(err)));
        const now = Date.now();
        for (let i = 0; i < 3; i++) guardA.failed('192.0.2.7', 'u@x.test', now);
        await eventually('the failures reach the store', async () => ((await b.buckets(['login-pair:u@x.test\n192.0.2.7'], 0, 1000)).get('login-pair:u@x.test\n192.0.2.7')?.[0]?.[1] ?? 0) >= 3);
        assert.equal(guardB.blockedFor('192.0.2.7', 'u@x.test', now), 0, 'before it asks, node B knows nothing');
        await guardB.pull('192.0.2.7', 'u@x.test', now);
        assert.ok(guardB.blockedFor('192.0.2.7', 'u@x.test', now) > 0, 'after asking, node B refuses the address for that account');
        assert.equal(guardB.blockedFor('192.0.2.8', 'u@x.test', now), 0, 'the owner elsewhere is not locked out');
      });
    });

    test('sending limits count every node: the limit is for the account, not per node', async () => {
      await twoNodes(backend.cluster, async ({ counters: a }, { counters: b }) => {
        const options = { perAccountPerHour: 2, perDomainPerHour: 100, recipientsPerAccountPerHour: 100 };
        const nodeA = new SendingLimits(options, a);
        const nodeB = new SendingLimits(options, b);
        nodeA.record('s@x.test', 1);
        nodeB.record('s@x.test', 1);
        await eventually('both messages reach the store', async () => ((await a.buckets(['send:s@x.test'], 0, 60_000)).get('send:s@x.test') ?? []).reduce((n, [, c]) => n + c, 0) >= 2);
        await nodeA.pull('s@x.test');
        assert.throws(() => nodeA.check('s@x.test'), (e: unknown) => e instanceof HikyakuError && e.code === 'ERR_SEND_RATE');
        await nodeA.pull('t@x.test');
        nodeA.check('t@x.test');
      });
    });

    test('a maildrop is locked across nodes; released, or given back when its node dies', async () => {
          await twoNodes(backend.cluster, async ({ locks: a }, { locks: b }, dir) => {
        assert.equal(await a.acquire(41), true);
        assert.equal(await a.acquire(41), false, 'a second session on the same node');
        assert.equal(await b.acquire(41), false, 'a session on another node');
        assert.equal(await b.acquire(42), true, 'another maildrop is free');
        await a.release(41);
        assert.equal(await b.acquire(41), true, 'released, the other node may take it');
        assert.equal(await a.acquire(41), false);
        // Node B's connection dies (as with a killed process): its locks go with it.
        const admin = new pg.Client({ connectionString: TEST_PG_URL });
        await admin.connect();
        try {
          // The connection that holds maildrop 42's lock: only node B has one.
          const r = await admin.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
            [`${schemaOf(dir)}:pop3:42`],
          );
          assert.equal(r.rowCount, 1, "node B's lock connection was found");
        } finally {
          await admin.end();
        }
        await eventually('node A may take the dead node\'s maildrop', () => a.acquire(41));
      });
    });
  });
}

for (const backend of backendsWith('directory', 'DirectoryStore change notifications')) {
  test(`DirectoryStore change notifications: ${backend.name}`, async (t) => {
    const dir = tempDir();
    const a = backend.directory(dir);
    const b = backend.directory(dir);
    if (!b.follow) {
      t.skip(`the ${backend.name} directory is polled for its version (directory.refreshMs); it announces nothing`);
      await Promise.all([a.close(), b.close()]);
      return removeDir(dir);
    }
    let heard = 0;
    const stop = b.follow(() => heard++);
    try {
      await a.version();
      await new Promise((r) => setTimeout(r, 300)); // the follower's LISTEN is in place
      const before = heard;
      await a.addDomain('notify.test');
      await eventually('a change on node A is announced to node B', () => heard > before);
      // The follower's connection is cut: it reconnects and says so (what it missed must be reloaded).
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      const cut = heard;
      try {
        const r = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${channelOf('directory', schemaOf(dir))}`]);
        assert.equal(r.rowCount, 1, "the follower's connection was found");
      } finally {
        await admin.end();
      }
      await eventually('the follower reconnects and asks for a reload', () => heard > cut);
      const again = heard;
      await a.addDomain('notify2.test');
      await eventually('changes are heard after the reconnect', () => heard > again);
    } finally {
      await stop();
      await Promise.all([a.close(), b.close()]);
      removeDir(dir);
    }
  });
}

for (const backend of backendsWith('spool', 'Spool commit notifications across nodes')) {
  test(`Spool commit notifications across nodes: ${backend.name}`, async (t) => {
    if (backend.name !== 'postgres') return t.skip(`the ${backend.name} spool belongs to one process: its commits are heard in that process only`);
    await twoNodes(backend.spool, async (a, b) => {
      let heard = 0;
      b.onCommit(() => heard++);
      await b.stats();
      await new Promise((r) => setTimeout(r, 300)); // node B's LISTEN is in place
      const before = heard;
      const w = await a.begin();
      await w.write(Buffer.from('wake up\r\n'));
      await w.commit({ mailFrom: 's@x.test', recipients: ['r@x.test'], smtputf8: false });
      await eventually('mail accepted on node A wakes the delivery of node B', () => heard > before);
      const [entry] = await a.lease('a', 1, 60_000);
      await a.defer(entry!, 'later', Date.now() + 3_600_000);
      const held = heard;
      assert.equal(await a.requeue([entry!.id], ['deferred']), 1);
      await eventually("an operator's retry on node A wakes node B", () => heard > held);
    });
  });
}

for (const backend of backendsWith('mailStore', 'MailStore appends from two nodes at once')) {
  test(`MailStore appends from two nodes at once: ${backend.name}`, async (t) => {
    if (backend.name !== 'postgres') return t.skip(`the ${backend.name} mailbox store belongs to one process: its appends meet in one group commit`);
    await twoNodes(backend.mailStore, async (a, b) => {
      // The same delivery run twice at once (a lease taken over while the first holder still works), and other mail beside it.
      for (let round = 0; round < 20; round++) {
        const [x, y] = await Promise.all([a.append(appendInput(1, `twice${round}`, 'hello\r\n')), b.append(appendInput(1, `twice${round}`, 'hello\r\n')), a.append(appendInput(2, `other${round}`, 'x\r\n'))]);
        assert.equal([x, y].filter((r) => !r!.duplicate).length, 1, `round ${round}: one of the two stored it`);
        assert.equal(x!.uid, y!.uid, `round ${round}: both answer its UID`);
      }
      assert.equal((await a.list(1)).length, 20);
      assert.equal((await b.list(2)).length, 20);
    });
  });
}

test('when the shared database hangs, a login neither waits for it nor fails: each node counts and locks by itself until it answers', { skip: process.env.HIKYAKU_TEST_BACKEND && process.env.HIKYAKU_TEST_BACKEND !== 'postgres' ? 'PostgreSQL is not under test' : false }, async () => {
  const { url, schema } = pgStoreUrl();
  const proxy = new FaultProxy({ host: '127.0.0.1', port: 5432 });
  const { proxy: at } = await proxy.listen({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
  const sick = url.replace(':5432/', `:${at.port}/`);
  const counters = new PgPortalState(sick, { connectTimeoutMs: 1000 });
  const locks = new PgMaildropLocks(sick, 300);
  const errors: string[] = [];
  const guard = new LoginGuard({ maxFailuresPerIp: 10, maxFailuresPerAccount: 2, windowMs: 60_000 }, counters, (err) => errors.push(String(err)));
  try {
    await counters.migrated();
    assert.equal(await locks.acquire(7), true, 'healthy: the lock is taken in the database');
    proxy.set({ latencyMs: 60_000, bandwidthBytesPerSecond: 0, refuse: false, dropEverySeconds: 0 });
    proxy.drop();
    guard.failed('192.0.2.9', 'v@x.test');
    guard.failed('192.0.2.9', 'v@x.test');
    const started = Date.now();
    await guard.pull('192.0.2.9', 'v@x.test');
    // The database answers after a minute; the pull gives up at its deadline (250 ms), far sooner.
    assert.ok(Date.now() - started < 30_000, 'the pull did not wait for the database');
    assert.ok(guard.blockedFor('192.0.2.9', 'v@x.test') > 0, "this node's own failures still count");
    assert.equal(errors.length, 1, 'the outage was told once');
    assert.equal(await locks.acquire(8), true, 'a maildrop opens on this node alone');
    assert.equal(await locks.acquire(8), false, '... and stays exclusive on it');
  } finally {
    proxy.set({ latencyMs: 0, bandwidthBytesPerSecond: 0, refuse: false, dropEverySeconds: 0 });
    await Promise.all([counters.close(), locks.close()]);
    await proxy.close();
    await dropSchemas([schema]);
  }
});
