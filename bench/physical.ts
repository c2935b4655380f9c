/**
 * Scenario 6: the disk's own limits, so every figure can be read as a fraction of them.
 * fsyncs/s: a 4 KiB append + fdatasync loop. Group-commit ceiling: 64 writers each waiting
 * for its 200-byte append to be durable, one thread batching whatever is pending into one
 * write + fdatasync.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../test/helpers/service.js';
import type { Figures } from './scenarios.js';

export async function physicalLimits(seconds: number, dir = tempDir('hikyaku-disk-')): Promise<Figures> {
  const file = join(dir, 'fsync.bin');
  const block = Buffer.alloc(4096, 0x61);
  const fd = openSync(file, 'w');
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end && n < 1_000_000) {
    writeSync(fd, block);
    fdatasyncSync(fd);
    n++;
  }
  closeSync(fd);
  const fsyncsPerSecond = n / seconds;

  const log = await open(join(dir, 'group.log'), 'w');
  const record = Buffer.alloc(200, 0x62);
  let pending: (() => void)[] = [];
  let appended = 0;
  let running = true;
  const writer = (async () => {
    while (running || pending.length) {
      if (pending.length === 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const batch = pending;
      pending = [];
      await log.write(Buffer.concat(batch.map(() => record)));
      await log.datasync();
      for (const done of batch) done();
    }
  })();
  const stopAt = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < stopAt) {
        await new Promise<void>((r) => pending.push(r));
        appended++;
      }
    }),
  );
  running = false;
  await writer;
  await log.close();
  await rm(dir, { recursive: true, force: true });
  return { fsyncsPerSecond, groupCommitAppendsPerSecond: appended / seconds };
}
