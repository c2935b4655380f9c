import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, tempDir } from '../helpers/service.js';
import { backendsWith, withStore } from './backends.js';
import type { Spool } from '../../src/queue/index.js';

async function accept(spool: Spool, body: string, recipients: string[]): Promise<string> {
  const w = await spool.begin();
  await w.write(Buffer.from(body));
  await w.commit({ mailFrom: 's@x.test', recipients, smtputf8: false });
  return w.messageId;
}

async function readAll(spool: Spool, id: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of spool.openBody(id)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

for (const backend of backendsWith('spool', 'Spool contract')) {
  describe(`Spool contract: ${backend.name}`, () => {
    test('ping answers on an empty spool and changes nothing', async () => {
      await withStore(backend.spool, async (spool) => {
        await spool.ping();
        assert.deepEqual((await spool.stats()).byState, { queued: 0, active: 0, deferred: 0, held: 0 });
      });
    });

    test('stats by state and the oldest age follow every commit, lease, defer, completion, spawn and bounce', async () => {
      await withStore(backend.spool, async (spool) => {
        const w = await spool.begin();
        await w.write(Buffer.from('x\r\n'));
        await w.commit({ mailFrom: 's@x.test', recipients: ['a@x.test', 'b@x.test', 'r@remote.test'], smtputf8: false, remote: ['r@remote.test'] });
        await accept(spool, 'y\r\n', ['c@x.test']);
        assert.deepEqual((await spool.stats()).byState, { queued: 4, active: 0, deferred: 0, held: 0 });
        const [a, b, c] = await spool.lease('w1', 10, 60_000, 'local');
        assert.deepEqual((await spool.stats()).byState, { queued: 1, active: 3, deferred: 0, held: 0 });
        await spool.defer(a!, 'store down', Date.now() + 60_000);
        await spool.complete(b!, [{ rcpt: 'fwd@remote.test', mailFrom: 's@x.test', route: 'remote' }]);
        await spool.bounce(c!, { envelope: { mailFrom: '', recipients: ['s@x.test'], smtputf8: false }, body: Buffer.from('Subject: DSN\r\n\r\nfailed\r\n') });
        // The forward and the DSN are new entries.
        const stats = await spool.stats();
        assert.deepEqual(stats.byState, { queued: 3, active: 0, deferred: 1, held: 0 });
        assert.ok(stats.oldestSeconds >= 0 && stats.oldestSeconds < 60);
        for (const e of await spool.lease('w2', 10, 60_000)) await spool.complete(e);
        assert.deepEqual((await spool.stats()).byState, { queued: 0, active: 0, deferred: 1, held: 0 }, 'the deferred entry is not due yet');
      });
    });

    test('operators select by filter, hold (never leased), requeue and lease by id; entries in delivery are left alone', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'x\r\n', ['a@one.test', 'b@Two.test', 'c@two.test']);
        const w = await spool.begin();
        await w.write(Buffer.from('dsn\r\n'));
        await w.commit({ mailFrom: '', recipients: ['d@two.test'], smtputf8: false });
        const all = await spool.select({}, 0, 100);
        assert.equal(all.length, 4);
        assert.deepEqual(await spool.select({}, all[1]!, 2), all.slice(2, 4), 'paged by id');
        const two = await spool.select({ recipient: '@two.test' }, 0, 100);
        assert.equal(two.length, 3, 'a domain matches in any case');
        assert.deepEqual(await spool.select({ sender: '<>' }, 0, 100), [all[3]]);
        assert.deepEqual(await spool.select({ sender: '@x.test', recipient: 'a@one.test' }, 0, 100), [all[0]]);
        assert.deepEqual(await spool.select({ olderThanMinutes: 5 }, 0, 100), [], 'nothing is five minutes old');
        assert.equal(await spool.hold(two), 3);
        assert.deepEqual((await spool.stats()).byState, { queued: 1, active: 0, deferred: 0, held: 3 });
        const leased = await spool.lease('w', 10, 60_000);
        assert.deepEqual(leased.map((e) => e.id), [all[0]], 'held entries are never leased');
        assert.deepEqual(await spool.select({}, 0, 100), two, 'an entry in delivery is not selected');
        assert.equal(await spool.hold([all[0]!]), 0, 'nor held');
        assert.equal(await spool.requeue(two.slice(0, 1), ['deferred']), 0, 'requeue looks at the state it is told');
        assert.equal(await spool.requeue(two.slice(0, 1), ['held']), 1);
        assert.deepEqual((await spool.lease('w', 10, 60_000)).map((e) => e.id), two.slice(0, 1), 'released, it is due at once');
        const taken = await spool.leaseIds([all[0]!, ...two], 'operator', 60_000);
        assert.deepEqual(taken.map((e) => e.id).sort(), two.slice(1).sort(), 'leaseIds takes held entries, not ones in delivery');
        for (const e of taken) assert.equal(await spool.complete(e), true);
        assert.deepEqual((await spool.stats()).byState, { queued: 0, active: 2, deferred: 0, held: 0 });
      });
    });

    test('show: a message with its entries and every failed attempt; nothing once its entries are done', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'Subject: s\r\n\r\nbody\r\n', ['a@x.test', 'b@x.test']);
        const [a, b] = await spool.lease('w', 10, 60_000);
        await spool.defer(a!, 'first failure', Date.now());
        await spool.defer(b!, 'other failure', Date.now() + 60_000);
        const [again] = await spool.lease('w', 10, 60_000);
        assert.equal(again!.id, a!.id);
        await spool.defer(again!, 'second failure', Date.now() + 60_000);
        const shown = await spool.show(b!.id);
        assert.equal(shown?.mailFrom, 's@x.test');
        assert.equal(shown?.size, 'Subject: s\r\n\r\nbody\r\n'.length);
        assert.deepEqual(shown?.entries.map((e) => [e.rcpt, e.attempts]), [['a@x.test', 2], ['b@x.test', 1]]);
        assert.deepEqual(shown?.attempts.filter((t) => t.entryId === a!.id).map((t) => t.error), ['first failure', 'second failure']);
        assert.deepEqual(shown?.attempts.filter((t) => t.entryId === b!.id).map((t) => t.error), ['other failure']);
        for (const e of await spool.leaseIds([a!.id, b!.id], 'op', 60_000)) await spool.complete(e);
        assert.equal(await spool.show(a!.id), undefined);
        assert.equal(await spool.show(424242), undefined);
      });
    });

    test('many commits, body reads and completions at once: every message whole, every entry done once, every body gone at the end', async () => {
      await withStore(backend.spool, async (spool) => {
        const ids = await Promise.all(Array.from({ length: 80 }, (_, i) => accept(spool, `message ${i}\r\n`, i % 4 === 0 ? ['a@x.test', 'b@x.test'] : [`r${i}@x.test`])));
        assert.equal(new Set(ids).size, 80);
        const entries = await spool.lease('w', 500, 60_000);
        assert.equal(entries.length, 100, 'one entry per recipient');
        const bodies = await Promise.all(entries.map((e) => readAll(spool, e.messageId)));
        entries.forEach((e, i) => assert.equal(bodies[i], `message ${ids.indexOf(e.messageId)}\r\n`));
        const forged = entries.slice(0, 10).map((e) => ({ ...e, leaseToken: 'forged' }));
        const done = await Promise.all([...entries, ...forged, ...entries.slice(0, 5)].map((e) => spool.complete(e)));
        assert.equal(done.filter(Boolean).length, 100, 'each entry completes once; forged tokens and repeats are refused');
        const stats = await spool.stats();
        assert.equal(Object.values(stats.byState).reduce((a, b) => a + b, 0), 0);
        await assert.rejects(readAll(spool, ids[0]!), 'the body goes with its last entry');
      });
    });

    test('commit makes one entry per recipient; leases are exclusive; body lives until all entries are done', async () => {
      await withStore(backend.spool, async (spool) => {
        const id = await accept(spool, 'hello\r\n', ['a@x.test', 'b@x.test']);
        const aborted = await spool.begin();
        await aborted.write(Buffer.from('never'));
        await aborted.abort();
        const first = await spool.lease('w1', 10, 60_000);
        assert.deepEqual(first.map((e) => e.rcpt).sort(), ['a@x.test', 'b@x.test']);
        assert.ok(first.every((e) => e.messageId === id && e.size === 7 && e.attempts === 1));
        assert.deepEqual(await spool.lease('w2', 10, 60_000), [], 'leased entries are not handed out twice');
        assert.equal(await spool.complete({ ...first[0]!, leaseToken: 'forged' }), false, 'only the lease holder completes');
        assert.equal(await spool.complete(first[0]!), true);
        assert.equal(await readAll(spool, id), 'hello\r\n', 'body kept while an entry remains');
        assert.equal(await spool.complete(first[1]!), true);
        assert.equal(await spool.complete(first[1]!), false, 'completing twice is refused');
        const stats = await spool.stats();
        assert.equal(stats.byState.queued + stats.byState.active, 0);
      });
    });

    test('an expired lease is taken over; defer waits until its time; release hands back', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'x\r\n', ['a@x.test']);
        const [e] = await spool.lease('w1', 1, 1);
        await new Promise((r) => setTimeout(r, 10));
        const [again] = await spool.lease('w2', 1, 60_000);
        assert.equal(again!.id, e!.id);
        assert.equal(again!.attempts, 2);
        assert.equal(await spool.defer(e!, 'late', Date.now()), false, 'the old holder lost its lease');
        assert.equal(await spool.renew([e!], 60_000), 0, 'nor can it renew it');
        assert.equal(await spool.defer(again!, 'store down', Date.now() + 60_000), true);
        assert.deepEqual(await spool.lease('w3', 1, 60_000), [], 'not due yet');
        assert.equal((await spool.stats()).byState.deferred, 1);
        await accept(spool, 'y\r\n', ['b@x.test']);
        assert.equal((await spool.lease('w4', 5, 60_000)).length, 1);
        await spool.release('w4');
        assert.equal((await spool.lease('w5', 5, 60_000)).length, 1);
      });
    });

    test('a lease taken again by the same owner fences the first holder; renewal keeps a lease from expiring', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'x\r\n', ['a@x.test', 'b@x.test']);
        const [a, b] = await spool.lease('w1', 2, 50);
        assert.equal(await spool.renew([a!], 60_000), 1);
        await new Promise((r) => setTimeout(r, 80));
        const [again] = await spool.lease('w1', 5, 60_000);
        assert.equal(again!.id, b!.id, 'only the entry not renewed was due again');
        assert.notEqual(again!.leaseToken, b!.leaseToken);
        assert.equal(await spool.complete(b!), false, 'the first holder, same owner, is fenced off');
        assert.equal(await spool.complete(again!), true);
        assert.equal(await spool.complete(a!), true, 'the renewed lease still settles');
      });
    });

    test('a large body (streamed to a file) reads back whole, and aborting leaves nothing', async () => {
      await withStore(backend.spool, async (spool) => {
        const big = 'x'.repeat(77) + '\r\n';
        const w = await spool.begin();
        for (let i = 0; i < 5000; i++) await w.write(Buffer.from(big));
        await w.commit({ mailFrom: '', recipients: ['a@x.test'], smtputf8: false });
        assert.equal((await readAll(spool, w.messageId)).length, 5000 * big.length);
        const [e] = await spool.lease('w', 1, 60_000);
        assert.equal(e!.size, 5000 * big.length);
        assert.equal(e!.mailFrom, '', 'the null sender is kept');
        const aborted = await spool.begin();
        for (let i = 0; i < 5000; i++) await aborted.write(Buffer.from(big));
        await aborted.abort();
        assert.equal(await spool.complete(e!), true);
        assert.deepEqual(await spool.lease('w', 1, 60_000), []);
      });
    });

    test('routes: remote entries lease apart; siblings of one domain lease together; spawn and notices commit with the settle step', async () => {
      await withStore(backend.spool, async (spool) => {
        const w = await spool.begin();
        await w.write(Buffer.from('Subject: s\r\n\r\nbody\r\n'));
        await w.commit({ mailFrom: 'u@here.test', recipients: ['l@here.test', 'a@far.test', 'b@far.test', 'c@other.test'], smtputf8: false, remote: ['a@far.test', 'b@far.test', 'c@other.test'] });
        const [local] = await spool.lease('w', 10, 60_000, 'local');
        assert.equal(local!.rcpt, 'l@here.test');
        assert.equal(local!.route, 'local');
        const [first] = await spool.lease('w', 1, 60_000, 'remote');
        const domain = first!.rcpt.split('@')[1]!;
        const siblings = await spool.leaseSiblings(first!, 'w', 60_000, domain);
        assert.deepEqual(siblings.map((e) => e.rcpt).sort(), domain === 'far.test' ? [first!.rcpt === 'a@far.test' ? 'b@far.test' : 'a@far.test'] : []);
        assert.ok(siblings.every((e) => e.route === 'remote' && e.mailFrom === 'u@here.test'));

        // The local entry forwards: completed, and a remote entry with an SRS sender takes its place.
        assert.equal(await spool.complete(local!, [{ rcpt: 'z@far.test', mailFrom: 'SRS0=x=yy=here.test=u@here.test', route: 'remote' }]), true);
        const spawned = (await spool.list(100)).find((e) => e.rcpt === 'z@far.test')!;
        assert.equal(spawned.mailFrom, 'SRS0=x=yy=here.test=u@here.test');
        assert.equal(spawned.state, 'queued');

        // A deferral with a delay notice marks the entry warned and queues the notice as its own message.
        const notice = { envelope: { mailFrom: '', recipients: ['u@here.test'], smtputf8: false }, body: Buffer.from('Subject: delayed\r\n\r\n') };
        assert.equal(await spool.defer(first!, '451 later', Date.now() - 1, notice), true);
        const again = (await spool.lease('w', 10, 60_000, 'remote')).find((e) => e.id === first!.id)!;
        assert.equal(again.warned, true);
        const [warning] = await spool.lease('w', 10, 60_000, 'local');
        assert.equal(warning!.mailFrom, '');
        assert.equal(await readAll(spool, warning!.messageId), 'Subject: delayed\r\n\r\n');
        assert.equal(await spool.complete(warning!), true);

        // A bounce leaves the queue and its DSN enters it; the body lives while entries remain.
        const dsn = { envelope: { mailFrom: '', recipients: ['u@here.test'], smtputf8: false }, body: Buffer.from('Subject: failed\r\n\r\n') };
        assert.equal(await spool.bounce({ ...again, leaseToken: 'forged' }, dsn), false, 'only the lease holder bounces');
        assert.equal(await spool.bounce(again, dsn), true);
        assert.ok(!(await spool.list(100)).some((e) => e.id === again.id));
        assert.equal((await spool.list(100)).filter((e) => e.mailFrom === '' && e.rcpt === 'u@here.test').length, 1, 'one DSN');
        assert.match(await readAll(spool, first!.messageId), /body/);
      });
    });

    test('once-notices: a key queues its notice once until its time passes, even for two completions at once', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'Subject: a\r\n\r\n', ['u1@here.test', 'u2@here.test', 'u3@here.test']);
        const [e1, e2, e3] = await spool.lease('w', 10, 60_000);
        const reply = (text: string) => ({ envelope: { mailFrom: '', recipients: ['s@x.test'], smtputf8: false }, body: Buffer.from(`Subject: ${text}\r\n\r\n`) });
        const key = 'autoreply\nu@here.test\ns@x.test';
        assert.equal(await spool.noticeKeyTaken(key), false);
        const until = Date.now() + 60_000;
        // Two deliveries race for the same key: one notice.
        assert.deepEqual(await Promise.all([spool.complete(e1!, [], [{ key, until, notice: reply('r1') }]), spool.complete(e2!, [], [{ key, until, notice: reply('r2') }])]), [true, true]);
        assert.equal(await spool.noticeKeyTaken(key), true);
        assert.equal(await spool.noticeKeyTaken(key, until + 1), false, 'free once its time has passed');
        const queued = (await spool.list(100)).filter((e) => e.rcpt === 's@x.test');
        assert.equal(queued.length, 1);
        // A completion that loses its lease queues nothing and takes no key.
        assert.equal(await spool.complete({ ...e3!, leaseToken: 'lost' }, [], [{ key: 'other', until, notice: reply('r3') }]), false);
        assert.equal(await spool.noticeKeyTaken('other'), false);
        // Within its time, a later delivery queues no second notice.
        assert.equal(await spool.complete(e3!, [], [{ key, until: Date.now() + 60_000, notice: reply('r4') }]), true);
        assert.equal((await spool.list(100)).filter((e) => e.rcpt === 's@x.test').length, 1, 'still held: no second notice');
      });
    });

    test('waiting mail for recipients: entries that failed once count, with the oldest arrival; first attempts and other recipients do not', async () => {
      await withStore(backend.spool, async (spool) => {
        await accept(spool, 'Subject: w\r\n\r\n', ['u@here.test', 'alias@here.test', 'other@here.test']);
        assert.deepEqual(await spool.waitingFor(['u@here.test', 'alias@here.test']), { count: 0, oldestReceivedAt: null }, 'queued only');
        const leased = await spool.lease('w', 10, 60_000);
        assert.deepEqual((await spool.waitingFor(['u@here.test'])).count, 0, 'a first attempt is not a delay');
        for (const e of leased) await spool.defer(e, '451 store down', Date.now() - 1);
        const w = await spool.waitingFor(['u@here.test', 'alias@here.test']);
        assert.equal(w.count, 2);
        assert.ok(w.oldestReceivedAt !== null && w.oldestReceivedAt <= Date.now());
        const again = await spool.lease('w', 10, 60_000);
        assert.equal((await spool.waitingFor(['u@here.test'])).count, 1, 'a retry in flight still waits');
        for (const e of again) await spool.complete(e);
        assert.deepEqual(await spool.waitingFor(['u@here.test', 'alias@here.test', 'other@here.test']), { count: 0, oldestReceivedAt: null });
        assert.deepEqual(await spool.waitingFor([]), { count: 0, oldestReceivedAt: null });
      });
    });

    test('bodies of every size, written in any chunks, read back byte-exact after a defer, a hold and reopening, and go with their last entry', async () => {
      const dir = tempDir();
      let spool = backend.spool(dir);
      try {
        // Around each place a body may be kept: the row, the body log (past 16 KiB), a file (past 128 KiB).
        const sizes = [1, 4096, 16384, 16385, 65536 + 7, 131072, 131073, 300_000];
        const bodies = new Map<string, Buffer>();
        for (const size of sizes) {
          const body = randomBytes(size);
          const w = await spool.begin();
          for (let at = 0; at < size; ) {
            const n = Math.min(size - at, 1 + Math.floor(Math.random() * 20_000));
            await w.write(body.subarray(at, at + n));
            at += n;
          }
          await w.commit({ mailFrom: 's@x.test', recipients: ['a@x.test', 'b@x.test'], smtputf8: false });
          bodies.set(w.messageId, body);
        }
        const readBytes = async (id: string) => {
          const chunks: Buffer[] = [];
          for await (const c of spool.openBody(id)) chunks.push(c as Buffer);
          return Buffer.concat(chunks);
        };
        for (const [id, body] of bodies) assert.ok((await readBytes(id)).equals(body), `${body.length} bytes read back as written`);
        const deferred = [...bodies.keys()][4];
        for (const e of await spool.lease('w', 100, 60_000)) if (e.messageId === deferred) assert.ok(await spool.defer(e, 'try later', Date.now() + 60_000));
        await spool.release('w');
        assert.equal(await spool.hold((await spool.select({}, 0, 100)).filter((_, i) => i % 2 === 0)), 8);
        await spool.close();
        spool = backend.spool(dir);
        for (const [id, body] of bodies) assert.ok((await readBytes(id)).equals(body), `${body.length} bytes kept through defer, hold and reopening`);
        await spool.requeue(await spool.select({}, 0, 100), ['held', 'deferred']);
        for (const e of await spool.lease('w2', 100, 60_000)) assert.ok(await spool.complete(e));
        for (const id of bodies.keys()) await assert.rejects(readBytes(id), 'the body goes with its last entry');
      } finally {
        await spool.close();
        removeDir(dir);
      }
    });

    test('committed messages survive reopening', async () => {
      const dir = tempDir();
      let spool = backend.spool(dir);
      const id = await accept(spool, 'persist\r\n', ['a@x.test']);
      await spool.close();
      spool = backend.spool(dir);
      try {
        const [e] = await spool.lease('w', 1, 60_000);
        assert.equal(e!.messageId, id);
        assert.equal(await readAll(spool, id), 'persist\r\n');
      } finally {
        await spool.close();
        removeDir(dir);
      }
    });
  });
}
