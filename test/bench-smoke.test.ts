import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, run } from './helpers/service.js';

test('npm run bench -- --smoke: every scenario at 1% size runs and prints its figures', async () => {
  const r = await run(process.execPath, [join(ROOT, 'dist/bench/run.js'), '--smoke'], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const figure of [/messages\/s\s+\d+/, /latency p50 \/ p99\s+[\d.]+ ms \/ [\d.]+ ms/, /1 client\s+\d+ msg\/s\s+[\d.]+ MB\/s/, /16 clients\s+\d+ msg\/s/, /POP3 \(logged in\) [\d.-]+ kB/]) {
    assert.match(r.stdout, figure);
  }
});
