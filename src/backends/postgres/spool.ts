import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { HikyakuError } from '../../mail/index.js';
import type { DeferReason, EntryState, Envelope, Notice, OnceNotice, QueueEntry, QueueFilter, QueueListing, QueueStats, QueuedMessage, Route, ShapeBy, ShapeRow, Spawn, Spool, SpoolWriter } from '../../queue/index.js';
import { PgStore, channelOf, type PgOptions } from './pool.js';
import { SpoolCompletions } from './spool-complete.js';
import { SpoolWakeUps } from './spool-wake.js';
import { PgSpoolAdmin } from './spool-admin.js';
import { Batcher, type Outcome } from './batcher.js';
import { ownerDiedHere, toEntry, type EntryRow } from '../common.js';

const MIGRATIONS = [
  `CREATE TABLE spool_messages (
     id TEXT PRIMARY KEY,
     mail_from TEXT NOT NULL,
     size INTEGER NOT NULL,
     smtputf8 BOOLEAN NOT NULL,
     received_at BIGINT NOT NULL,
     remaining INTEGER NOT NULL,
     body BYTEA NOT NULL);
   CREATE TABLE spool_entries (
     id BIGSERIAL PRIMARY KEY,
     message_id TEXT NOT NULL REFERENCES spool_messages(id),
     rcpt TEXT NOT NULL,
     mail_from TEXT,
     route TEXT NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT NOT NULL,
     last_error TEXT,
     lease_owner TEXT,
     lease_token TEXT,
     warned BOOLEAN NOT NULL DEFAULT false,
     created_at BIGINT NOT NULL);
   CREATE INDEX spool_entries_due ON spool_entries(next_attempt_at);
   CREATE INDEX spool_entries_route_due ON spool_entries(route, next_attempt_at);
   CREATE INDEX spool_entries_message ON spool_entries(message_id);
   CREATE INDEX spool_entries_state ON spool_entries(state);
   CREATE INDEX spool_entries_waiting_rcpt ON spool_entries(rcpt) WHERE state = 'deferred' OR attempts > 1;
   CREATE TABLE spool_attempt_log (entry_id BIGINT NOT NULL, at BIGINT NOT NULL, error TEXT NOT NULL);
   CREATE INDEX spool_attempt_log_entry ON spool_attempt_log(entry_id);
   CREATE TABLE spool_notice_keys (key TEXT PRIMARY KEY, until BIGINT NOT NULL);`,
];

const ENTRY_COLUMNS = sql.raw(`e.id, e.message_id, e.rcpt, e.route, e.attempts, e.warned::int AS warned, e.lease_token, coalesce(e.mail_from, m.mail_from) AS mail_from, m.size, m.smtputf8::int AS smtputf8, m.received_at`);

// Most messages in one accepting statement (and at most the Batcher's bytes), bodies in one read.
const ACCEPT_BATCH = 32;
const BODY_BATCH = 64;

interface Accepted {
  readonly id: string;
  readonly envelope: Envelope;
  readonly body: Buffer;
}

const newMessageId = () => Date.now().toString(36).padStart(9, '0') + randomBytes(8).toString('hex');

/** PostgreSQL's "disk full" (53100) and "out of memory" (53200) are the spool being full: a temporary 452. */
function storageError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  return code === '53100' || code === '53200' ? new HikyakuError('ERR_SPOOL_FULL', 'the spool database has no room', { cause: err }) : err;
}

/** A message being received: held in memory, written with its entries in one transaction at commit. */
class PgSpoolWriter implements SpoolWriter {
  readonly messageId = newMessageId();
  private readonly chunks: Buffer[] = [];

  constructor(private readonly record: (id: string, envelope: Envelope, body: Buffer) => Promise<void>) {}

  async write(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
  }

  async commit(envelope: Envelope): Promise<void> {
    await this.record(this.messageId, envelope, Buffer.concat(this.chunks));
  }

  async abort(): Promise<void> {
    this.chunks.length = 0;
  }
}

/**
 * The spool on PostgreSQL, shared by every node: bodies in `spool_messages.body`, one row
 * per recipient in `spool_entries`. Leases are taken with FOR UPDATE SKIP LOCKED, so any
 * number of delivery processes lease disjoint entries; a commit is PostgreSQL's (durable
 * once it returns, with the server's synchronous_commit).
 */
export class PgSpool extends PgStore implements Spool {
  private readonly admin: PgSpoolAdmin;
  private readonly accepted: Batcher<Accepted, void>;
  private readonly bodies: Batcher<string, Buffer>;
  private readonly completions: SpoolCompletions;
  private readonly wakeUps: SpoolWakeUps;

  constructor(url: string, options: PgOptions = {}) {
    super(url, options, 'spool', MIGRATIONS);
    this.admin = new PgSpoolAdmin(() => this.conn());
    const lanes = Math.max(1, Math.floor((options.max ?? 10) / 4));
    this.accepted = new Batcher((batch) => this.acceptBatch(batch), ACCEPT_BATCH, lanes, (a) => a.body.length);
    this.bodies = new Batcher((ids) => this.bodyBatch(ids), BODY_BATCH, lanes);
    this.completions = new SpoolCompletions(() => this.conn(), lanes, storageError);
    this.wakeUps = new SpoolWakeUps(url, channelOf('spool', this.schema), () => this.conn());
  }

  /** Accepted messages, many in one statement: each is durable when its commit() returns. */
  private async acceptBatch(batch: readonly Accepted[]): Promise<Outcome<void>[]> {
    try {
      await this.insertMessages(await this.conn(), batch);
    } catch (err) {
      throw storageError(err);
    }
    return batch.map(() => ({ ok: undefined }));
  }

  /** Start-up housekeeping: leases of dead processes on this host come back; old notice keys go. */
  async recover(): Promise<{ released: number }> {
    const db = await this.conn();
    let released = 0;
    const owners = await sql<{ o: string }>`SELECT DISTINCT lease_owner AS o FROM spool_entries WHERE state = 'active'`.execute(db);
    for (const { o } of owners.rows) {
      if (ownerDiedHere(o)) {
        const r = await sql`UPDATE spool_entries SET state = 'queued', lease_owner = NULL, lease_token = NULL, next_attempt_at = ${Date.now()} WHERE lease_owner = ${o} AND state = 'active'`.execute(db);
        released += Number(r.numAffectedRows ?? 0);
      }
    }
    await sql`DELETE FROM spool_notice_keys WHERE until <= ${Date.now()}`.execute(db);
    // Messages whose last entry completed just before a crash (see SpoolCompletions).
    await sql`DELETE FROM spool_messages m WHERE m.remaining = 0 AND NOT EXISTS (SELECT 1 FROM spool_entries e WHERE e.message_id = m.id)`.execute(db);
    return { released };
  }

  async begin(): Promise<SpoolWriter> {
    return new PgSpoolWriter(async (id, envelope, body) => {
      await this.accepted.add({ id, envelope, body });
      this.wakeUps.notify();
    });
  }

  /** Messages with one queued entry per recipient, in one statement (atomic by itself, or part of `tx`). */
  private async insertMessages(tx: Transaction<any> | Kysely<any>, messages: readonly Accepted[]): Promise<void> {
    const now = Date.now();
    const rows = messages.flatMap(({ id, envelope }) => {
      const remote = new Set(envelope.remote ?? []);
      return envelope.recipients.map((rcpt) => sql`(${id}, ${rcpt}, ${remote.has(rcpt) ? 'remote' : 'local'}, 'queued', ${now}, ${now})`);
    });
    const msgs = messages.map(({ id, envelope, body }) => sql`(${id}, ${envelope.mailFrom}, ${body.length}, ${envelope.smtputf8}, ${now}, ${envelope.recipients.length}, ${body})`);
    const insert = sql`INSERT INTO spool_messages (id, mail_from, size, smtputf8, received_at, remaining, body) VALUES ${sql.join(msgs)}`;
    if (rows.length === 0) await insert.execute(tx);
    else await sql`WITH m AS (${insert}) INSERT INTO spool_entries (message_id, rcpt, route, state, next_attempt_at, created_at) VALUES ${sql.join(rows)}`.execute(tx);
  }

  private insertNotice(tx: Transaction<any>, notice: Notice): Promise<void> {
    return this.insertMessages(tx, [{ id: newMessageId(), envelope: notice.envelope, body: notice.body }]);
  }

  async lease(owner: string, limit: number, leaseMs: number, route?: Route): Promise<QueueEntry[]> {
    const now = Date.now();
    const due = route ? sql`route = ${route} AND next_attempt_at <= ${now}` : sql`next_attempt_at <= ${now}`;
    return this.leaseWhere(sql`SELECT id FROM spool_entries WHERE ${due} ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`, owner, leaseMs);
  }

  async leaseSiblings(entry: QueueEntry, owner: string, leaseMs: number, domain: string): Promise<QueueEntry[]> {
    const pattern = '%@' + domain.replace(/[\\%_]/g, '\\$&');
    return this.leaseWhere(
      sql`SELECT e.id FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id
          WHERE e.message_id = ${entry.messageId} AND e.route = ${entry.route} AND e.id != ${entry.id} AND e.next_attempt_at <= ${Date.now()}
            AND coalesce(e.mail_from, m.mail_from) = ${entry.mailFrom} AND e.rcpt LIKE ${pattern} ESCAPE '\\'
          FOR UPDATE OF e SKIP LOCKED`,
      owner,
      leaseMs,
    );
  }

  /** Leases the entries `select` finds (locking them, skipping ones another node holds), in one statement. */
  private async leaseWhere(select: ReturnType<typeof sql>, owner: string, leaseMs: number): Promise<QueueEntry[]> {
    const db = await this.conn();
    const token = randomBytes(9).toString('base64url');
    const r = await sql<EntryRow>`
      WITH chosen AS (${select}),
      leased AS (UPDATE spool_entries e SET state = 'active', lease_owner = ${owner}, lease_token = ${token}, next_attempt_at = ${Date.now() + leaseMs}, attempts = e.attempts + 1
                 FROM chosen WHERE e.id = chosen.id RETURNING e.*)
      SELECT ${ENTRY_COLUMNS} FROM leased e JOIN spool_messages m ON m.id = e.message_id ORDER BY e.id`.execute(db);
    return r.rows.map(toEntry);
  }

  openBody(messageId: string): Readable {
    return Readable.from(
      (async function* (spool: PgSpool) {
        yield await spool.bodies.add(messageId);
      })(this),
    );
  }

  async complete(entry: QueueEntry, spawn: readonly Spawn[] = [], once: readonly OnceNotice[] = []): Promise<boolean> {
    if (spawn.length === 0 && once.length === 0 && entry.attempts <= 1) return this.completions.complete(entry);
    let queued = 0;
    const ok = await this.finish(entry, async (tx) => {
      const now = Date.now();
      const rows = spawn.map((s) => sql`(${entry.messageId}, ${s.rcpt}, ${s.mailFrom}, ${s.route}, 'queued', ${now}, ${now})`);
      if (rows.length) await sql`INSERT INTO spool_entries (message_id, rcpt, mail_from, route, state, next_attempt_at, created_at) VALUES ${sql.join(rows)}`.execute(tx);
      for (const o of once) {
        // Takes the key only when it is free or its time has passed: one notice per interval.
        const taken = await sql`INSERT INTO spool_notice_keys (key, until) VALUES (${o.key}, ${o.until}) ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE spool_notice_keys.until <= ${now}`.execute(tx);
        if (Number(taken.numAffectedRows ?? 0) === 0) continue;
        await this.insertNotice(tx, o.notice);
        queued++;
      }
      return spawn.length;
    });
    if (ok && queued > 0) this.wakeUps.notify();
    return ok;
  }

  /** Bodies of the messages asked for since the last batch, in one query. */
  private async bodyBatch(ids: readonly string[]): Promise<Outcome<Buffer>[]> {
    const db = await this.conn();
    const r = await sql<{ id: string; body: Buffer }>`SELECT id, body FROM spool_messages WHERE id = ANY(${[...new Set(ids)]}::text[]) AND remaining > 0`.execute(db);
    const found = new Map(r.rows.map((x) => [x.id, x.body]));
    return ids.map((id) => {
      const body = found.get(id);
      return body ? { ok: body } : { error: Object.assign(new Error(`no message ${id} in the spool`), { code: 'ENOENT' }) };
    });
  }

  async bounce(entry: QueueEntry, notice?: Notice): Promise<boolean> {
    const ok = await this.finish(entry, async (tx) => {
      if (notice) await this.insertNotice(tx, notice);
      return 0;
    });
    if (ok && notice) this.wakeUps.notify();
    return ok;
  }

  /** Removes the entry (if its lease is still held) and, in the same transaction, runs `more`, which returns entries it added to the message. */
  private async finish(entry: QueueEntry, more: (tx: Transaction<any>) => Promise<number>): Promise<boolean> {
    const db = await this.conn();
    let added = 0;
    const ok = await db
      .transaction()
      .execute(async (tx) => {
        const gone = await sql`DELETE FROM spool_entries WHERE id = ${entry.id} AND lease_token = ${entry.leaseToken} AND state = 'active'`.execute(tx);
        if (Number(gone.numAffectedRows ?? 0) !== 1) return false;
        if (entry.attempts > 1) await sql`DELETE FROM spool_attempt_log WHERE entry_id = ${entry.id}`.execute(tx);
        added = await more(tx);
        const left = await sql<{ remaining: number }>`UPDATE spool_messages SET remaining = remaining - 1 + ${added} WHERE id = ${entry.messageId} RETURNING remaining`.execute(tx);
        if (left.rows[0]?.remaining === 0) await sql`DELETE FROM spool_messages WHERE id = ${entry.messageId}`.execute(tx);
        return true;
      })
      .catch((err: unknown) => {
        throw storageError(err);
      });
    if (added > 0) this.wakeUps.notify();
    return ok;
  }

  async waitingFor(rcpts: readonly string[]): Promise<{ count: number; oldestReceivedAt: number | null }> {
    if (rcpts.length === 0) return { count: 0, oldestReceivedAt: null };
    const db = await this.conn();
    const r = await sql<{ n: number; oldest: number | null }>`
      SELECT count(*)::int AS n, min(m.received_at) AS oldest FROM spool_entries e JOIN spool_messages m ON m.id = e.message_id
      WHERE e.rcpt = ANY(${[...rcpts]}::text[]) AND (e.state = 'deferred' OR e.attempts > 1) AND e.route = 'local'`.execute(db);
    return { count: r.rows[0]!.n, oldestReceivedAt: r.rows[0]!.oldest };
  }

  async noticeKeyTaken(key: string, now = Date.now()): Promise<boolean> {
    const db = await this.conn();
    const r = await sql<{ until: number }>`SELECT until FROM spool_notice_keys WHERE key = ${key}`.execute(db);
    return r.rows[0] !== undefined && r.rows[0].until > now;
  }

  async defer(entry: QueueEntry, error: string, retryAt: number, notice?: Notice): Promise<boolean> {
    const db = await this.conn();
    const ok = await db
      .transaction()
      .execute(async (tx) => {
        const r = await sql`UPDATE spool_entries SET state = 'deferred', last_error = ${error}, next_attempt_at = ${retryAt}, lease_owner = NULL, lease_token = NULL, warned = warned OR ${notice !== undefined}
                             WHERE id = ${entry.id} AND lease_token = ${entry.leaseToken} AND state = 'active'`.execute(tx);
        if (Number(r.numAffectedRows ?? 0) !== 1) return false;
        await sql`INSERT INTO spool_attempt_log (entry_id, at, error) VALUES (${entry.id}, ${Date.now()}, ${error})`.execute(tx);
        if (notice) await this.insertNotice(tx, notice);
        return true;
      })
      .catch((err: unknown) => {
        throw storageError(err);
      });
    if (ok && notice) this.wakeUps.notify();
    return ok;
  }

  async renew(entries: readonly QueueEntry[], leaseMs: number): Promise<number> {
    if (entries.length === 0) return 0;
    const db = await this.conn();
    const r = await sql`UPDATE spool_entries e SET next_attempt_at = ${Date.now() + leaseMs}
                        FROM unnest(${entries.map((e) => e.id)}::bigint[], ${entries.map((e) => e.leaseToken)}::text[]) AS held(id, token)
                        WHERE e.id = held.id AND e.lease_token = held.token AND e.state = 'active'`.execute(db);
    return Number(r.numAffectedRows ?? 0);
  }

  list(limit: number, filter?: QueueFilter, afterId?: number): Promise<QueueListing[]> {
    return this.admin.list(limit, filter ?? {}, afterId ?? 0);
  }

  shape(by: ShapeBy, bucketsMinutes: readonly number[], state?: EntryState): Promise<ShapeRow[]> {
    return this.admin.shape(by, bucketsMinutes, state);
  }

  ownerCounts(): Promise<{ route: Route; state: EntryState; domain: string; count: number }[]> {
    return this.admin.ownerCounts();
  }

  deferReasons(limit: number): Promise<DeferReason[]> {
    return this.admin.deferReasons(limit);
  }

  show(entryId: number): Promise<QueuedMessage | undefined> {
    return this.admin.show(entryId);
  }

  select(filter: QueueFilter, afterId: number, limit: number): Promise<number[]> {
    return this.admin.select(filter, afterId, limit);
  }

  hold(ids: readonly number[]): Promise<number> {
    return this.admin.hold(ids);
  }

  async requeue(ids: readonly number[], from: readonly ('held' | 'deferred')[]): Promise<number> {
    const n = await this.admin.requeue(ids, from);
    if (n > 0) this.wakeUps.notify();
    return n;
  }

  async leaseIds(ids: readonly number[], owner: string, leaseMs: number): Promise<QueueEntry[]> {
    return this.leaseWhere(sql`SELECT id FROM spool_entries WHERE id = ANY(${[...ids]}::bigint[]) AND state != 'active' FOR UPDATE SKIP LOCKED`, owner, leaseMs);
  }

  async release(owner: string): Promise<void> {
    const db = await this.conn();
    await sql`UPDATE spool_entries SET state = 'queued', lease_owner = NULL, lease_token = NULL, next_attempt_at = ${Date.now()} WHERE lease_owner = ${owner} AND state = 'active'`.execute(db);
  }

  async stats(): Promise<QueueStats> {
    const db = await this.conn();
    const byState: Record<EntryState, number> = { queued: 0, active: 0, deferred: 0, held: 0 };
    const counts = await sql<{ state: EntryState; n: number }>`SELECT state, count(*)::int AS n FROM spool_entries GROUP BY state`.execute(db);
    for (const r of counts.rows) byState[r.state] = r.n;
    const oldest = await sql<{ t: number }>`SELECT created_at AS t FROM spool_entries ORDER BY id LIMIT 1`.execute(db);
    return { byState, oldestSeconds: oldest.rows[0] ? Math.max(0, (Date.now() - oldest.rows[0].t) / 1000) : 0 };
  }

  async ping(): Promise<void> {
    const db = await this.conn();
    await sql`SELECT 1 FROM spool_entries LIMIT 1`.execute(db);
  }

  /** `listener` hears commits of this process at once and of other nodes through LISTEN (and after each reconnect of it). */
  onCommit(listener: () => void): void {
    this.wakeUps.add(listener);
  }

  override async close(): Promise<void> {
    await this.completions.close();
    await this.wakeUps.close();
    await super.close();
  }
}
