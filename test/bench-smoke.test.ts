import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, run } from './helpers/service.js';

test('npm run bench -- --smoke: every scenario at 1% size runs and reports its figures', async () => {
  const r = await run(process.execPath, [join(ROOT, 'dist/bench/run.js'), '--smoke'], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const figure of ['accepted [msg/s]', 'latency p99 [ms]', 'retrievable by POP3 [msg/s]', '16 clients [MB/s]', 'POP3 PSS per session [kB]', 'IMAP IDLE PSS per session [kB]', 'LOGIN + SELECT, median of 5 [ms]', 'queries answered [/s]', 'drained [msg/s]', 'group-commit ceiling, 64 writers [appends/s]']) {
    // At 1% size a memory figure is noise and may even be negative: the smoke run checks that
    // every figure is produced, not its value.
    assert.match(r.stdout, new RegExp(`\\| ${figure.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\| -?\\d`), figure);
  }
  assert.match(r.stdout, /\| smtp 4 KiB\s+\| accepted \[msg\/s\]\s+\| \d[^|]*\| \d/, 'acceptance with every store on PostgreSQL too');
  assert.match(r.stdout, /\| end to end 64 KiB\s+\| retrievable by POP3 \[msg\/s\]\s+\| \d[^|]*\| \d/, 'end to end with every store on PostgreSQL too');
});
