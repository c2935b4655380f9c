import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, compiled once per connection and reused (preparing costs more than running). */
export function sql(db: Db, text: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(text);
  if (!stmt) cache.set(text, (stmt = db.prepare(text)));
  return stmt;
}

/**
 * Opens a SQLite database in WAL mode with synchronous=FULL: a COMMIT returns only
 * after the WAL is fsynced, so a committed transaction survives a crash or power loss.
 * `migrations[i]` brings the schema from user_version i to i+1.
 */
export function openDb(path: string, migrations: readonly string[], busyTimeoutMs = 5000): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  // CLI commands and the service share the files; wait for a writer instead of failing.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    db.close();
    throw new Error(`${path} has schema version ${version}, newer than this Hikyaku (${migrations.length}); upgrade Hikyaku`);
  }
  if (version < migrations.length) {
    // Under the write lock, the version is read again: several processes (the service, its
    // threads, a CLI command) may open a new file at once, and only one migrates it.
    db.transaction(() => {
      for (let v = db.pragma('user_version', { simple: true }) as number; v < migrations.length; v++) {
        db.exec(migrations[v]!);
        db.pragma(`user_version = ${v + 1}`);
      }
    }).immediate();
  }
  return db;
}

/**
 * Runs `write` (a statement or a transaction that begins IMMEDIATE, so that it takes the
 * write lock before doing anything) once the write lock is free. While another connection
 * holds it (another thread's commit, a CLI command), SQLite's own busy handler would put
 * this thread to sleep for 1, 2, 5 ms and more, and on the thread that answers SMTP that
 * stalls every session; on a delivery thread, every delivery in flight. Here the write does
 * not wait inside SQLite: it is tried again on a timer while the event loop serves everything
 * else, for at most the connection's busy timeout, as before. Only a write that found the
 * lock taken before it began (`began()` false) is tried again: nothing of it ran yet.
 */
export async function whenWriteLockFree<T>(db: Db, write: () => T, began: () => boolean = () => false): Promise<T> {
  const busyTimeoutMs = (sql(db, 'PRAGMA busy_timeout').get() as { timeout: number }).timeout;
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    sql(db, 'PRAGMA busy_timeout = 0').get();
    try {
      return write();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || began() || Date.now() >= deadline) throw err;
    } finally {
      sql(db, `PRAGMA busy_timeout = ${busyTimeoutMs}`).get();
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Group commit: work submitted while a transaction is being written joins the next
 * one, so N concurrent writers cost one WAL fsync instead of N. Each `run` resolves
 * (or rejects) when its own part is committed. What a part names to make durable first
 * is synced once per batch, before the transaction: a directory of new files it refers to
 * (by path, through `syncDir`), or anything else (a function, such as the spool's body log).
 */
export class GroupCommitter {
  private pending: { work: () => void; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private pendingSyncs = new Set<string | (() => Promise<void>)>();
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly syncDir: (dir: string) => Promise<void>,
  ) {}

  run(work: () => void, syncFirst?: string | (() => Promise<void>)): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      if (syncFirst) this.pendingSyncs.add(syncFirst);
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      const syncs = this.pendingSyncs;
      this.pending = [];
      this.pendingSyncs = new Set();
      try {
        await Promise.all([...syncs].map((d) => (typeof d === 'string' ? this.syncDir(d) : d())));
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      // One transaction for the batch; a failing item rolls back only itself (savepoint).
      const results: unknown[] = [];
      let began = false;
      const commit = this.db.transaction(() => {
        began = true;
        for (const p of batch) {
          try {
            this.db.transaction(p.work)();
            results.push(undefined);
          } catch (err) {
            results.push(err ?? new Error('failed'));
          }
        }
      });
      try {
        await whenWriteLockFree(this.db, () => commit.immediate(), () => began);
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      batch.forEach((p, i) => (results[i] === undefined ? p.resolve() : p.reject(results[i])));
    }
    this.flushing = false;
  }
}
