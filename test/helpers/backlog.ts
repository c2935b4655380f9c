import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSpool } from '../../src/wiring.js';
import type { Route } from '../../src/queue/index.js';
import { testConfig } from './service.js';

/**
 * Writes `count` deferred entries of one message (from `mailFrom`), due in a day, straight
 * into the spool database of data directory `dir`, as a store outage leaves them: entry i
 * goes to `rcptOf(i)` by `routeOf(i)`. The service must not be running.
 */
export async function seedBacklog(dir: string, count: number, mailFrom: string, rcptOf: (i: number) => string, routeOf: (i: number) => Route): Promise<void> {
  await openSpool(testConfig(dir)).close();
  const db = new Database(join(dir, 'spool/spool.db'));
  try {
    const later = Date.now() + 86_400_000;
    db.transaction(() => {
      db.prepare(`INSERT INTO messages (id, mail_from, size, smtputf8, received_at, remaining, body) VALUES ('backlog', ?, 3, 0, ?, ?, ?)`).run(mailFrom, Date.now(), count, Buffer.from('x\r\n'));
      const insert = db.prepare(`INSERT INTO entries (message_id, rcpt, state, next_attempt_at, created_at, route, last_error) VALUES ('backlog', ?, 'deferred', ?, ?, ?, '451 4.3.0 try later')`);
      for (let i = 0; i < count; i++) insert.run(rcptOf(i), later, Date.now() - i, routeOf(i));
    })();
  } finally {
    db.close();
  }
}
