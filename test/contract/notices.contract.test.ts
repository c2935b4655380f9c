import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NoticeInput } from '../../src/notices/index.js';
import { backendsWith, withStore } from './backends.js';

const input = (title: string): NoticeInput => ({ kind: 'incident', title, body: 'text', services: ['sending'], tenants: [], startsAt: Date.now(), endsAt: null, serviceStops: false });

for (const backend of backendsWith('notices', 'NoticeStore contract')) {
  describe(`NoticeStore contract: ${backend.name}`, () => {
    test('revisions are counted, publishing a draft is not a revision, closing happens once', async () => {
      await withStore(backend.notices, async (s) => {
        const n = await s.createNotice(input('written'), 'operator:ops');
        assert.deepEqual([n.revision, n.draft, n.autoService, n.closedAt], [0, false, null, null]);
        const r = await s.reviseNotice(n.id, input('written again'));
        assert.equal(r?.revision, 1);
        const closed = await s.closeNotice(n.id);
        assert.ok(closed?.closedAt);
        assert.equal((await s.closeNotice(n.id))?.closedAt, closed.closedAt, 'closed once');
        assert.equal(await s.reviseNotice(9999, input('x')), undefined);
        assert.deepEqual((await s.listNotices({ open: true, limit: 10 })).map((x) => x.id), []);
      });
    });

    test('one open automatic incident per service, whoever asks; after it closes, a new one can open', async () => {
      await withStore(backend.notices, async (s) => {
        const [a, b] = await Promise.all([s.openAutoIncident('sending', input('auto 1'), true), s.openAutoIncident('sending', input('auto 2'), true)]);
        assert.equal([a, b].filter(Boolean).length, 1, 'one of two racing instances opens it');
        const opened = (a ?? b)!;
        assert.deepEqual([opened.draft, opened.autoService, opened.author], [true, 'sending', 'automatic']);
        assert.ok(await s.openAutoIncident('mailboxes', input('other service'), false), 'another service has its own');
        const published = await s.publishNotice(opened.id);
        assert.deepEqual([published?.draft, published?.revision], [false, 0]);
        await s.closeNotice(opened.id);
        const again = await s.openAutoIncident('sending', input('auto 3'), false);
        assert.equal(again?.title, 'auto 3');
        assert.equal((await s.listNotices({ open: true, limit: 10 })).length, 2);
      });
    });

    test('backlog samples: one per interval, the last in it kept, an oldest age in fractional seconds stored whole', async () => {
      await withStore(backend.notices, async (s) => {
        const t = 1_700_000_000_000;
        await s.recordSample({ at: t + 100, waiting: 5, deferred: 1, oldestSeconds: 0.046, latencySeconds: 0.0123 }, 1000, 60_000);
        await s.recordSample({ at: t + 900, waiting: 7, deferred: 2, oldestSeconds: 12.6, latencySeconds: null }, 1000, 60_000);
        await s.recordSample({ at: t + 1500, waiting: 3, deferred: 0, oldestSeconds: 3, latencySeconds: 1.5 }, 1000, 60_000);
        assert.deepEqual(await s.samples(t), [
          { at: t, waiting: 7, deferred: 2, oldestSeconds: 13, latencySeconds: null },
          { at: t + 1000, waiting: 3, deferred: 0, oldestSeconds: 3, latencySeconds: 1.5 },
        ]);
      });
    });
  });
}
