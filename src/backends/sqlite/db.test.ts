import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitter, openDb } from './db.js';
import { SqliteSpool } from './spool.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hikyaku-db-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Another connection that holds the write lock of `path` until `release()`. */
function holdWriteLock(path: string): { release(): void } {
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      other.exec('COMMIT');
      other.close();
    },
  };
}

test('a group commit that finds the write lock taken waits without blocking its thread, and commits once the lock is free', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'a.db');
    const db = openDb(path, ['CREATE TABLE t (v)']);
    const committer = new GroupCommitter(db, async () => undefined);
    const lock = holdWriteLock(path);
    try {
      let settled = false;
      const committed = committer.run(() => void db.prepare('INSERT INTO t VALUES (1)').run()).finally(() => (settled = true));
      // The only way the lock is let go is a timer on this same thread: a thread asleep in
      // SQLite's busy handler would never reach it, and the commit would fail after 5 s.
      for (let turn = 0; turn < 20; turn++) await new Promise((r) => setTimeout(r, 2));
      assert.equal(settled, false, 'the commit is still waiting for the lock');
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
      lock.release();
      await committed;
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
    } finally {
      db.close();
    }
  });
});

test('a group commit whose write lock stays taken past the busy timeout fails with SQLITE_BUSY, and changes nothing', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'a.db');
    const db = openDb(path, ['CREATE TABLE t (v)'], 50);
    const committer = new GroupCommitter(db, async () => undefined);
    const lock = holdWriteLock(path);
    try {
      await assert.rejects(
        committer.run(() => void db.prepare('INSERT INTO t VALUES (1)').run()),
        (err: { code?: string }) => err.code === 'SQLITE_BUSY',
      );
      lock.release();
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
      assert.equal((db.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout, 50, 'the connection keeps its busy timeout');
    } finally {
      db.close();
    }
  });
});

test('a lease that finds the spool write lock taken waits without blocking its thread and then leases the entry', async () => {
  await withDir(async (dir) => {
    const spool = new SqliteSpool(dir, true);
    try {
      const w = await spool.begin();
      await w.write(Buffer.from('Subject: x\r\n\r\nbody\r\n'));
      await w.commit({ mailFrom: 'a@b.test', recipients: ['c@d.test'], smtputf8: false });
      const lock = holdWriteLock(join(dir, 'spool.db'));
      const leased = spool.lease('test', 10, 60_000);
      let released = false;
      setTimeout(() => {
        released = true;
        lock.release();
      }, 20);
      const entries = await leased;
      assert.ok(released, 'the lease waited for the lock');
      assert.deepEqual(
        entries.map((e) => e.rcpt),
        ['c@d.test'],
      );
    } finally {
      await spool.close();
    }
  });
});
