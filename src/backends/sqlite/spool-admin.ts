/**
 * The embedded spool's operator queries (hikyaku queue …): listings, the queue's shape,
 * reasons for deferral, and selecting, holding and requeueing entries by filter. Entries
 * in delivery ('active') are never changed here: their holder settles them.
 */
import type { DeferReason, EntryState, QueueFilter, QueueListing, QueuedMessage, Route, ShapeBy, ShapeRow } from '../../queue/index.js';
import { sql, type Db } from './db.js';

/** next_attempt_at of a held entry: never due, so no lease takes it. */
const NEVER = Number.MAX_SAFE_INTEGER;

const LISTING = `SELECT e.id, e.message_id, coalesce(e.mail_from, m.mail_from) AS mail_from, e.rcpt, e.route, e.state, e.attempts, e.next_attempt_at, e.last_error, m.received_at
  FROM entries e JOIN messages m ON m.id = e.message_id`;

type ListingRow = { id: number; message_id: string; mail_from: string; rcpt: string; route: Route; state: EntryState; attempts: number; next_attempt_at: number; last_error: string | null; received_at: number };

export function listEntries(db: Db, limit: number): QueueListing[] {
  return (sql(db, `${LISTING} ORDER BY e.id LIMIT ?`).all(limit) as ListingRow[]).map(toListing);
}

/** The message of entry `entryId`: every entry it still has in the queue and their failed attempts. */
export function showMessage(db: Db, entryId: number): QueuedMessage | undefined {
  const message = sql(db, `SELECT m.id, m.mail_from AS mailFrom, m.size, m.received_at AS receivedAt, m.smtputf8 FROM messages m JOIN entries e ON e.message_id = m.id WHERE e.id = ?`).get(entryId) as
    | { id: string; mailFrom: string; size: number; receivedAt: number; smtputf8: number }
    | undefined;
  if (!message) return undefined;
  const entries = (sql(db, `${LISTING} WHERE e.message_id = ? ORDER BY e.id`).all(message.id) as ListingRow[]).map(toListing);
  const attempts = sql(db, 'SELECT a.entry_id AS entryId, a.at, a.error FROM attempt_log a JOIN entries e ON e.id = a.entry_id WHERE e.message_id = ? ORDER BY a.at, a.entry_id').all(message.id) as QueuedMessage['attempts'];
  return { messageId: message.id, mailFrom: message.mailFrom, size: message.size, receivedAt: message.receivedAt, smtputf8: message.smtputf8 === 1, entries, attempts };
}

function toListing(r: ListingRow): QueueListing {
  return {
    id: r.id,
    messageId: r.message_id,
    mailFrom: r.mail_from,
    rcpt: r.rcpt,
    route: r.route,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    receivedAt: r.received_at,
  };
}

export function shapeOf(db: Db, by: ShapeBy, bucketsMinutes: readonly number[], state?: EntryState): ShapeRow[] {
  const address = by === 'recipient' ? 'e.rcpt' : 'coalesce(e.mail_from, m.mail_from)';
  // Iterated, not loaded: a backlog of a million entries costs a scan, not a million objects.
  const rows = sql(
    db,
    `SELECT CASE WHEN ${address} = '' THEN '<>' ELSE lower(substr(${address}, instr(${address}, '@') + 1)) END AS key, (@now - e.created_at) / 60000.0 AS age
     FROM entries e JOIN messages m ON m.id = e.message_id ${state ? 'WHERE e.state = @state' : ''}`,
  ).iterate({ now: Date.now(), ...(state ? { state } : {}) }) as IterableIterator<{ key: string; age: number }>;
  const byKey = new Map<string, number[]>();
  for (const { key, age } of rows) {
    let counts = byKey.get(key);
    if (!counts) byKey.set(key, (counts = new Array<number>(bucketsMinutes.length + 1).fill(0)));
    const bucket = bucketsMinutes.findIndex((limit) => age < limit);
    counts[bucket === -1 ? bucketsMinutes.length : bucket]!++;
  }
  return [...byKey].map(([key, counts]) => ({ key, counts }));
}

export function deferReasonsOf(db: Db, limit: number): DeferReason[] {
  return sql(
    db,
    `SELECT coalesce(last_error, '') AS error, count(*) AS count, min(created_at) AS oldestAt FROM entries WHERE state = 'deferred'
     GROUP BY last_error ORDER BY count DESC, oldestAt LIMIT ?`,
  ).all(limit) as DeferReason[];
}

/** `@domain` matches every address of the domain (any case); anything else one address exactly ('<>': the null sender). */
function addressCondition(column: string, value: string, param: string, params: Record<string, unknown>): string {
  if (value.startsWith('@')) {
    params[param] = `%${value.toLowerCase().replace(/[\\%_]/g, '\\$&')}`;
    return `lower(${column}) LIKE @${param} ESCAPE '\\'`;
  }
  params[param] = value === '<>' ? '' : value;
  return `${column} = @${param}`;
}

export function selectIds(db: Db, filter: QueueFilter, afterId: number, limit: number): number[] {
  const params: Record<string, unknown> = { afterId, limit };
  const where = ['e.id > @afterId', `e.state != 'active'`];
  if (filter.ids) {
    params.ids = JSON.stringify(filter.ids);
    where.push('e.id IN (SELECT value FROM json_each(@ids))');
  }
  if (filter.states) {
    params.states = JSON.stringify(filter.states);
    where.push('e.state IN (SELECT value FROM json_each(@states))');
  }
  if (filter.sender !== undefined) where.push(addressCondition('coalesce(e.mail_from, m.mail_from)', filter.sender, 'sender', params));
  if (filter.recipient !== undefined) where.push(addressCondition('e.rcpt', filter.recipient, 'rcpt', params));
  if (filter.olderThanMinutes !== undefined) {
    params.before = Date.now() - filter.olderThanMinutes * 60_000;
    where.push('e.created_at < @before');
  }
  const rows = sql(db, `SELECT e.id FROM entries e JOIN messages m ON m.id = e.message_id WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT @limit`).all(params) as { id: number }[];
  return rows.map((r) => r.id);
}

export function holdIds(db: Db, ids: readonly number[]): number {
  return sql(db, `UPDATE entries SET state = 'held', next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('queued', 'deferred')`).run(NEVER, JSON.stringify(ids)).changes;
}

export function requeueIds(db: Db, ids: readonly number[], from: readonly ('held' | 'deferred')[]): number {
  return sql(db, `UPDATE entries SET state = 'queued', next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state IN (SELECT value FROM json_each(?))`).run(Date.now(), JSON.stringify(ids), JSON.stringify(from)).changes;
}
