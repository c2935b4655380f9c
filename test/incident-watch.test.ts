import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { IncidentWatch, NO_RATES, isPublicNotice, ratesBetween, type ServiceSignals, type ServiceState } from '../src/notices/index.js';
import { SqliteNoticeStore } from '../src/backends/sqlite/index.js';
import { createLogger } from '../src/observability/index.js';
import { removeDir, tempDir } from './helpers/service.js';

const signals = (at: number, sending: ServiceState, oldestSeconds: number): ServiceSignals => ({
  at,
  services: { receiving: { state: 'ok', detail: 'spool' }, sending: { state: sending, detail: 'queue' }, mailboxes: { state: 'ok', detail: 'store' }, 'member-site': { state: 'ok', detail: 'portal' } },
  queue: { waiting: 42, deferred: 40, oldestSeconds },
  storeMs: 3,
  rates: NO_RATES,
});

test('automatic incidents: a draft only after the signal stayed bad for the configured time, revised when it worsens, closed with "recovered" when it is back; off makes none', async () => {
  const dir = tempDir();
  const store = new SqliteNoticeStore(join(dir, 'directory.db'));
  try {
    const published: number[] = [];
    const watch = new IncidentWatch(store, { mode: 'draft', afterMs: 60_000, onPublished: (n) => published.push(n.id) }, createLogger('silent'));
    const t0 = Date.parse('2026-12-02T06:00:00Z');
    await watch.observe(signals(t0, 'degraded', 1000));
    await watch.observe(signals(t0 + 59_000, 'degraded', 1059));
    assert.deepEqual(await store.listNotices({ open: true, limit: 10 }), [], 'not before the signal was bad for afterMs');
    await watch.observe(signals(t0 + 60_000, 'degraded', 1060));
    const [draft] = await store.listNotices({ open: true, limit: 10 });
    assert.ok(draft);
    assert.deepEqual([draft.draft, draft.autoService, draft.kind, draft.startsAt, isPublicNotice(draft)], [true, 'sending', 'incident', t0, false]);
    assert.match(draft.body, /^\[06:01 UTC, degraded\] Mail is waiting longer than usual.* 42 message\(s\) waiting; the oldest for 18 min\./);
    assert.deepEqual(published, [], 'a draft is not mailed');
    await watch.observe(signals(t0 + 120_000, 'disrupted', 4000));
    const [worse] = await store.listNotices({ open: true, limit: 10 });
    assert.equal(worse?.revision, 1);
    assert.match(worse!.body, /\[06:02 UTC, disrupted\]/);
    await watch.observe(signals(t0 + 180_000, 'disrupted', 4060));
    assert.equal((await store.listNotices({ open: true, limit: 10 }))[0]?.revision, 1, 'unchanged while it stays as bad');
    await watch.observe(signals(t0 + 600_000, 'ok', 5));
    assert.deepEqual(await store.listNotices({ open: true, limit: 10 }), []);
    const [closed] = await store.listNotices({ since: 0, limit: 10 });
    assert.match(closed!.body, /Recovered at 06:10 UTC, after about 10 min\. 42 message\(s\) waiting/);
    assert.equal(closed!.endsAt, t0 + 600_000);

    const off = new IncidentWatch(store, { mode: 'off', afterMs: 0 }, createLogger('silent'));
    await off.observe(signals(t0 + 700_000, 'disrupted', 9999));
    assert.deepEqual(await store.listNotices({ open: true, limit: 10 }), []);
  } finally {
    await store.close();
    removeDir(dir);
  }
});

test('rates over an interval: deliveries deferred and readers\' temporary errors as shares, the mean delivery time; too little activity tells nothing', () => {
  const at = (deliveries: number, deferred: number, latencySum: number, latencyCount: number, replies: number, errors: number) => ({ deliveries, deliveriesDeferred: deferred, latencySum, latencyCount, readerReplies: replies, readerErrors: errors });
  assert.deepEqual(ratesBetween(undefined, at(100, 10, 5, 90, 200, 2)), NO_RATES, 'no interval yet');
  assert.deepEqual(ratesBetween(at(100, 10, 5, 90, 200, 2), at(140, 20, 25, 120, 300, 12)), { deliveryFailurePercent: 25, readerErrorPercent: 10, latencySeconds: 20 / 30 });
  assert.deepEqual(ratesBetween(at(100, 10, 5, 90, 200, 2), at(105, 15, 5, 90, 210, 12)), NO_RATES, 'five deliveries and ten replies are too few');
});
