/**
 * The embedded spool's operator queries (hikyaku queue …): listings, the queue's shape,
 * reasons for deferral, and selecting, holding and requeueing entries by filter. Entries
 * in delivery ('active') are never changed here: their holder settles them.
 */
import type { DeferReason, EntryState, QueueFilter, QueueListing, QueuedMessage, Route, ShapeBy, ShapeRow } from '../../queue/index.js';
import { sql, type Db } from './db.js';
import { toListing, type ListingRow } from '../common.js';

/** next_attempt_at of a held entry: never due, so no lease takes it. */
const NEVER = Number.MAX_SAFE_INTEGER;

const LISTING = `SELECT e.id, e.message_id, coalesce(e.mail_from, m.mail_from) AS mail_from, e.rcpt, e.route, e.state, e.attempts, e.next_attempt_at, e.last_error, m.received_at
  FROM entries e JOIN messages m ON m.id = e.message_id`;


export function listEntries(db: Db, limit: number, filter: QueueFilter, afterId: number): QueueListing[] {
  const { where, params } = conditions(filter, afterId);
  return (sql(db, `${LISTING} WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT @limit`).all({ ...params, limit }) as ListingRow[]).map(toListing);
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


const SENDER = 'coalesce(e.mail_from, m.mail_from)';
/** The address whose domain owns an entry: the recipient's for mail delivered here, the sender's for mail relayed out. */
const OWNER = `CASE WHEN e.route = 'local' THEN e.rcpt ELSE ${SENDER} END`;
const domainOf = (address: string) => `lower(substr(${address}, instr(${address}, '@') + 1))`;

export function shapeOf(db: Db, by: ShapeBy, bucketsMinutes: readonly number[], state?: EntryState): ShapeRow[] {
  const address = by === 'recipient' ? 'e.rcpt' : by === 'sender' ? SENDER : OWNER;
  // Iterated, not loaded: a backlog of a million entries costs a scan, not a million objects.
  const rows = sql(
    db,
    `SELECT CASE WHEN ${address} = '' THEN '<>' ELSE ${domainOf(address)} END AS key, (@now - e.created_at) / 60000.0 AS age
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

export function ownerCountsOf(db: Db): { route: Route; state: EntryState; domain: string; count: number }[] {
  return sql(db, `SELECT e.route, e.state, CASE WHEN ${OWNER} = '' THEN '<>' ELSE ${domainOf(OWNER)} END AS domain, count(*) AS count FROM entries e JOIN messages m ON m.id = e.message_id GROUP BY 1, 2, 3`).all() as {
    route: Route;
    state: EntryState;
    domain: string;
    count: number;
  }[];
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

/** The WHERE conditions of `filter` (joined with AND) and their parameters. */
function conditions(filter: QueueFilter, afterId: number): { where: string[]; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { afterId };
  const where = ['e.id > @afterId'];
  if (filter.ids) {
    params.ids = JSON.stringify(filter.ids);
    where.push('e.id IN (SELECT value FROM json_each(@ids))');
  }
  if (filter.states) {
    params.states = JSON.stringify(filter.states);
    where.push('e.state IN (SELECT value FROM json_each(@states))');
  }
  if (filter.sender !== undefined) where.push(addressCondition(SENDER, filter.sender, 'sender', params));
  if (filter.recipient !== undefined) where.push(addressCondition('e.rcpt', filter.recipient, 'rcpt', params));
  if (filter.olderThanMinutes !== undefined) {
    params.before = Date.now() - filter.olderThanMinutes * 60_000;
    where.push('e.created_at < @before');
  }
  if (filter.ownerDomains) {
    params.owners = JSON.stringify(filter.ownerDomains.map((d) => d.toLowerCase()));
    where.push(`${domainOf(OWNER)} IN (SELECT value FROM json_each(@owners))`);
  }
  return { where, params };
}

export function selectIds(db: Db, filter: QueueFilter, afterId: number, limit: number): number[] {
  const { where, params } = conditions(filter, afterId);
  where.push(`e.state != 'active'`);
  const rows = sql(db, `SELECT e.id FROM entries e JOIN messages m ON m.id = e.message_id WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT @limit`).all({ ...params, limit }) as { id: number }[];
  return rows.map((r) => r.id);
}

export function holdIds(db: Db, ids: readonly number[]): number {
  return sql(db, `UPDATE entries SET state = 'held', next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('queued', 'deferred')`).run(NEVER, JSON.stringify(ids)).changes;
}

export function requeueIds(db: Db, ids: readonly number[], from: readonly ('held' | 'deferred')[]): number {
  return sql(db, `UPDATE entries SET state = 'queued', next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state IN (SELECT value FROM json_each(?))`).run(Date.now(), JSON.stringify(ids), JSON.stringify(from)).changes;
}
