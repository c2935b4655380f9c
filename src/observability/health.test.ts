import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readiness } from './health.js';

test('readiness: a check that hangs or fails makes the report not ready, with its reason; the others still answer', async () => {
  const report = await readiness(
    [
      { name: 'fine', check: async () => undefined },
      { name: 'hangs', check: () => new Promise<void>(() => undefined) },
      { name: 'fails', check: async () => Promise.reject(new Error('database is locked')) },
      {
        name: 'throws',
        check: () => {
          throw new Error('no such file');
        },
      },
    ],
    50,
  );
  assert.equal(report.ready, false);
  assert.deepEqual(
    report.checks.map((c) => [c.name, c.ok, c.error]),
    [
      ['fine', true, undefined],
      ['hangs', false, 'no answer within 50 ms'],
      ['fails', false, 'database is locked'],
      ['throws', false, 'no such file'],
    ],
  );
  assert.equal((await readiness([{ name: 'fine', check: async () => undefined }], 50)).ready, true);
});
