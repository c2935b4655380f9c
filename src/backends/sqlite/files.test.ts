import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirSyncer } from './files.js';

test('a directory that could not be opened once (EMFILE, not there yet) is opened again on the next sync', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hikyaku-dirsync-'));
  const dirs = new DirSyncer(true);
  try {
    const dir = join(root, 'later');
    await assert.rejects(dirs.sync(dir));
    mkdirSync(dir);
    await dirs.sync(dir);
  } finally {
    await dirs.close();
    rmSync(root, { recursive: true, force: true });
  }
});
