import { spawn, type ChildProcess } from 'node:child_process';
import { untilOutput } from './service.js';

/**
 * Another process holding a lock on a SQLite database (`BEGIN EXCLUSIVE` from Python's
 * sqlite3), as an operator's stray shell or a stuck backup would. By default readers go on
 * (WAL) and every writer waits for its busy timeout and fails with "database is locked";
 * with `readers: true` (exclusive locking mode) reads fail too, even opening the file.
 */
export class SqliteLock {
  private constructor(private readonly child: ChildProcess) {}

  static async hold(path: string, options: { readers?: boolean } = {}): Promise<SqliteLock> {
    const script = [
      'import sqlite3, sys',
      'con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)',
      options.readers ? "con.execute('PRAGMA locking_mode = EXCLUSIVE')" : 'pass',
      "con.execute('BEGIN EXCLUSIVE')",
      // In exclusive locking mode the lock covers readers once the connection has touched a table (directory.db's meta).
      options.readers ? "con.execute('UPDATE meta SET v = v WHERE 0')" : 'pass',
      "print('locked', flush=True)",
      'sys.stdin.read()',
    ].join('\n');
    const child = spawn('python3', ['-c', script, path], { stdio: ['pipe', 'pipe', 'pipe'] });
    await untilOutput(child, 'locked', `lock holder of ${path}`);
    return new SqliteLock(child);
  }

  /** Ends the transaction (the holder exits) and resolves once the lock is gone. */
  async release(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}
