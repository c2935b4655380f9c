/**
 * The PostgreSQL spool's operator queries (hikyaku queue …, the portal's queue view):
 * listings, the queue's shape, reasons for deferral, and selecting, holding and requeueing
 * entries by filter. Entries in delivery ('active') are never changed here.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DeferReason, EntryState, QueueFilter, QueueListing, QueuedMessage, Route, ShapeBy, ShapeRow } from '../../queue/index.js';
import { toListing, type ListingRow } from '../common.js';

/** next_attempt_at of a held entry: never due, so no lease takes it. */
const NEVER = Number.MAX_SAFE_INTEGER;

const SENDER = sql.raw('coalesce(e.mail_from, m.mail_from)');
/** The address whose domain owns an entry: the recipient's for mail delivered here, the sender's for mail relayed out. */
const OWNER = sql.raw(`CASE WHEN e.route = 'local' THEN e.rcpt ELSE coalesce(e.mail_from, m.mail_from) END`);
const domainOf = (address: RawBuilder<unknown>) => sql`lower(substr(${address}, strpos(${address}, '@') + 1))`;
const keyOf = (address: RawBuilder<unknown>) => sql`CASE WHEN ${address} = '' THEN '<>' ELSE ${domainOf(address)} END`;

const LISTING = sql.raw(`SELECT e.id, e.message_id, coalesce(e.mail_from, m.mail_from) AS mail_from, e.rcpt, e.route, e.state, e.attempts, e.next_attempt_at, e.last_error, m.received_at
  FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id`);



/** `@domain` matches every address of the domain (any case); anything else one address exactly ('<>': the null sender). */
function addressCondition(column: RawBuilder<unknown>, value: string): RawBuilder<unknown> {
  if (value.startsWith('@')) return sql`lower(${column}) LIKE ${`%${value.toLowerCase().replace(/[\\%_]/g, '\\$&')}`} ESCAPE '\\'`;
  return sql`${column} = ${value === '<>' ? '' : value}`;
}

/** The WHERE of `filter` for entries with an id above `afterId`. */
function where(filter: QueueFilter, afterId: number): RawBuilder<unknown> {
  const c: RawBuilder<unknown>[] = [sql`e.id > ${afterId}`];
  if (filter.ids) c.push(sql`e.id = ANY(${[...filter.ids]}::bigint[])`);
  if (filter.states) c.push(sql`e.state = ANY(${[...filter.states]}::text[])`);
  if (filter.sender !== undefined) c.push(addressCondition(SENDER, filter.sender));
  if (filter.recipient !== undefined) c.push(addressCondition(sql.raw('e.rcpt'), filter.recipient));
  if (filter.olderThanMinutes !== undefined) c.push(sql`e.created_at < ${Date.now() - filter.olderThanMinutes * 60_000}`);
  if (filter.ownerDomains) c.push(sql`${domainOf(OWNER)} = ANY(${filter.ownerDomains.map((d) => d.toLowerCase())}::text[])`);
  return sql.join(c, sql` AND `);
}

export class PgSpoolAdmin {
  constructor(private readonly conn: () => Promise<Kysely<any>>) {}

  async list(limit: number, filter: QueueFilter, afterId: number): Promise<QueueListing[]> {
    const r = await sql<ListingRow>`${LISTING} WHERE ${where(filter, afterId)} ORDER BY e.id LIMIT ${limit}`.execute(await this.conn());
    return r.rows.map(toListing);
  }

  async show(entryId: number): Promise<QueuedMessage | undefined> {
    const db = await this.conn();
    const m = await sql<{ id: string; mail_from: string; size: number; received_at: number; smtputf8: boolean }>`
      SELECT m.id, m.mail_from, m.size, m.received_at, m.smtputf8 FROM spool_messages m JOIN spool_entries e ON e.message_id = m.id WHERE e.id = ${entryId}`.execute(db);
    const message = m.rows[0];
    if (!message) return undefined;
    const entries = await sql<ListingRow>`${LISTING} WHERE e.message_id = ${message.id} ORDER BY e.id`.execute(db);
    const attempts = await sql<{ entryId: number; at: number; error: string }>`
      SELECT a.entry_id AS "entryId", a.at, a.error FROM spool_attempt_log a JOIN spool_entries e ON e.id = a.entry_id WHERE e.message_id = ${message.id} ORDER BY a.at, a.entry_id`.execute(db);
    return { messageId: message.id, mailFrom: message.mail_from, size: message.size, receivedAt: message.received_at, smtputf8: message.smtputf8, entries: entries.rows.map(toListing), attempts: attempts.rows };
  }

  async shape(by: ShapeBy, bucketsMinutes: readonly number[], state?: EntryState): Promise<ShapeRow[]> {
    const address = by === 'recipient' ? sql.raw('e.rcpt') : by === 'sender' ? SENDER : OWNER;
    // Counted by the server per key and bucket: a backlog of a million entries costs a scan, not a million rows sent.
    const bucket = sql.join(
      bucketsMinutes.map((limit, i) => sql`WHEN (${Date.now()} - e.created_at) < ${limit * 60_000} THEN ${i}`),
      sql` `,
    );
    const r = await sql<{ key: string; bucket: number; n: number }>`
      SELECT ${keyOf(address)} AS key, CASE ${bucket} ELSE ${bucketsMinutes.length} END AS bucket, count(*)::int AS n
      FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id ${state ? sql`WHERE e.state = ${state}` : sql``} GROUP BY 1, 2`.execute(await this.conn());
    const byKey = new Map<string, number[]>();
    for (const row of r.rows) {
      let counts = byKey.get(row.key);
      if (!counts) byKey.set(row.key, (counts = new Array<number>(bucketsMinutes.length + 1).fill(0)));
      counts[row.bucket] = row.n;
    }
    return [...byKey].map(([key, counts]) => ({ key, counts }));
  }

  async ownerCounts(): Promise<{ route: Route; state: EntryState; domain: string; count: number }[]> {
    const r = await sql<{ route: Route; state: EntryState; domain: string; count: number }>`
      SELECT e.route, e.state, ${keyOf(OWNER)} AS domain, count(*)::int AS count FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id GROUP BY 1, 2, 3`.execute(await this.conn());
    return r.rows;
  }

  async deferReasons(limit: number): Promise<DeferReason[]> {
    const r = await sql<DeferReason>`
      SELECT coalesce(last_error, '') AS error, count(*)::int AS count, min(created_at) AS "oldestAt" FROM spool_entries WHERE state = 'deferred'
      GROUP BY last_error ORDER BY count DESC, "oldestAt" LIMIT ${limit}`.execute(await this.conn());
    return r.rows;
  }

  async select(filter: QueueFilter, afterId: number, limit: number): Promise<number[]> {
    const r = await sql<{ id: number }>`SELECT e.id FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id WHERE ${where(filter, afterId)} AND e.state != 'active' ORDER BY e.id LIMIT ${limit}`.execute(await this.conn());
    return r.rows.map((x) => x.id);
  }

  async hold(ids: readonly number[]): Promise<number> {
    const r = await sql`UPDATE spool_entries SET state = 'held', next_attempt_at = ${NEVER} WHERE id = ANY(${[...ids]}::bigint[]) AND state IN ('queued', 'deferred')`.execute(await this.conn());
    return Number(r.numAffectedRows ?? 0);
  }

  async requeue(ids: readonly number[], from: readonly ('held' | 'deferred')[]): Promise<number> {
    const r = await sql`UPDATE spool_entries SET state = 'queued', next_attempt_at = ${Date.now()} WHERE id = ANY(${[...ids]}::bigint[]) AND state = ANY(${[...from]}::text[])`.execute(await this.conn());
    return Number(r.numAffectedRows ?? 0);
  }
}
