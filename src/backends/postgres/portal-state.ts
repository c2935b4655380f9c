import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { AuditEntry, AuditLog } from '../../directory/index.js';
import type { ApiToken, ApiTokenStore, LastLogin, PortalSession, SessionKind, SessionStore, SharedCounters, TotpRecord, TotpStore } from '../../auth/index.js';
import { hashOf, newApiToken, parseApiToken, secretMatches, toSession, toToken, tokenUseDue, type SessionRow, type TokenRow } from '../portal-rows.js';
import { PORTAL_MIGRATIONS } from './directory-schema.js';
import { PgStore, type PgOptions } from './pool.js';

const affected = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0);

/**
 * The portal's sessions, last logins, audit log, API tokens and second factors on
 * PostgreSQL beside the directory (so any node serves any session), and the counters every
 * node adds its failed logins and sent messages to.
 */
export class PgPortalState extends PgStore implements SessionStore, AuditLog, ApiTokenStore, TotpStore, SharedCounters {
  private lastSweep = 0;

  constructor(url: string, options: PgOptions = {}) {
    super(url, options, 'portal', PORTAL_MIGRATIONS);
  }

  async create(input: { subject: string; kind: SessionKind; ip: string; ttlMs: number; csrf: string }): Promise<{ token: string; session: PortalSession }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const row: SessionRow = { subject: input.subject, kind: input.kind, csrf: input.csrf, ip: input.ip, created_at: now, seen_at: now, expires_at: now + input.ttlMs };
    await sql`INSERT INTO portal_sessions (id, subject, kind, csrf, ip, created_at, seen_at, expires_at)
      VALUES (${hashOf(token)}, ${row.subject}, ${row.kind}, ${row.csrf}, ${row.ip}, ${row.created_at}, ${row.seen_at}, ${row.expires_at})`.execute(await this.conn());
    return { token, session: toSession(row) };
  }

  async get(token: string, now = Date.now()): Promise<PortalSession | undefined> {
    const row = (await sql<SessionRow>`SELECT * FROM portal_sessions WHERE id = ${hashOf(token)}`.execute(await this.conn())).rows[0];
    return row && row.expires_at > now ? toSession(row) : undefined;
  }

  async touch(token: string, seenAt: number, expiresAt: number): Promise<void> {
    await sql`UPDATE portal_sessions SET seen_at = ${seenAt}, expires_at = ${expiresAt} WHERE id = ${hashOf(token)}`.execute(await this.conn());
  }

  async remove(token: string): Promise<void> {
    await sql`DELETE FROM portal_sessions WHERE id = ${hashOf(token)}`.execute(await this.conn());
  }

  async removeSubject(subject: string, keep?: string): Promise<number> {
    return affected(await sql`DELETE FROM portal_sessions WHERE subject = ${subject} AND id != ${keep ? hashOf(keep) : ''}`.execute(await this.conn()));
  }

  async sweep(now = Date.now()): Promise<number> {
    return affected(await sql`DELETE FROM portal_sessions WHERE expires_at <= ${now}`.execute(await this.conn()));
  }

  async recordLogins(logins: ReadonlyMap<string, LastLogin>): Promise<void> {
    if (logins.size === 0) return;
    const rows = [...logins];
    await sql`INSERT INTO last_logins (subject, at, ip, protocol)
      SELECT * FROM unnest(${rows.map(([s]) => s)}::text[], ${rows.map(([, l]) => l.at)}::bigint[], ${rows.map(([, l]) => l.ip)}::text[], ${rows.map(([, l]) => l.protocol)}::text[])
      ON CONFLICT (subject) DO UPDATE SET at = excluded.at, ip = excluded.ip, protocol = excluded.protocol WHERE last_logins.at <= excluded.at`.execute(await this.conn());
  }

  async lastLogins(subjects: readonly string[]): Promise<Map<string, LastLogin>> {
    const found = new Map<string, LastLogin>();
    if (subjects.length === 0) return found;
    const r = await sql<LastLogin & { subject: string }>`SELECT subject, at, ip, protocol FROM last_logins WHERE subject = ANY(${[...subjects]}::text[])`.execute(await this.conn());
    for (const row of r.rows) found.set(row.subject, { at: row.at, ip: row.ip, protocol: row.protocol });
    return found;
  }

  async append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    await sql`INSERT INTO audit_log (at, tenant, actor, ip, action, target, detail)
      VALUES (${Date.now()}, ${entry.tenant}, ${entry.actor}, ${entry.ip}, ${entry.action}, ${entry.target}, ${JSON.stringify(entry.detail)})`.execute(await this.conn());
  }

  async list(filter: { tenant?: string; limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    const before = filter.beforeId ?? Number.MAX_SAFE_INTEGER;
    const where = filter.tenant === undefined ? sql`` : sql`AND tenant = ${filter.tenant}`;
    const r = await sql<Omit<AuditEntry, 'detail'> & { detail: string }>`SELECT * FROM audit_log WHERE id < ${before} ${where} ORDER BY id DESC LIMIT ${filter.limit}`.execute(await this.conn());
    return r.rows.map((x) => ({ ...x, detail: JSON.parse(x.detail) as Record<string, unknown> }));
  }

  async createToken(input: { name: string; tenant: string | null; createdBy: string }): Promise<{ token: string; record: ApiToken }> {
    const { id, secret, token } = newApiToken();
    const record: ApiToken = { id, name: input.name, tenant: input.tenant, createdBy: input.createdBy, createdAt: Date.now(), lastUsedAt: null };
    await sql`INSERT INTO api_tokens (id, secret_hash, name, tenant, created_by, created_at)
      VALUES (${id}, ${hashOf(secret)}, ${record.name}, ${record.tenant}, ${record.createdBy}, ${record.createdAt})`.execute(await this.conn());
    return { token, record };
  }

  async verifyToken(presented: string, now = Date.now()): Promise<ApiToken | undefined> {
    const parsed = parseApiToken(presented);
    if (!parsed) return undefined;
    const db = await this.conn();
    const row = (await sql<TokenRow>`SELECT * FROM api_tokens WHERE id = ${parsed.id}`.execute(db)).rows[0];
    if (!row || !secretMatches(row, parsed.secret)) return undefined;
    if (tokenUseDue(row, now)) await sql`UPDATE api_tokens SET last_used_at = ${now} WHERE id = ${row.id}`.execute(db);
    return toToken(row);
  }

  async listTokens(tenant: string | null | undefined): Promise<ApiToken[]> {
    const where = tenant === undefined ? sql`` : sql`WHERE tenant IS NOT DISTINCT FROM ${tenant}`;
    return (await sql<TokenRow>`SELECT * FROM api_tokens ${where} ORDER BY created_at`.execute(await this.conn())).rows.map(toToken);
  }

  async revokeToken(id: string, tenant: string | null | undefined): Promise<boolean> {
    const mine = tenant === undefined ? sql`` : sql`AND tenant IS NOT DISTINCT FROM ${tenant}`;
    return affected(await sql`DELETE FROM api_tokens WHERE id = ${id} ${mine}`.execute(await this.conn())) === 1;
  }

  async getTotp(subject: string): Promise<TotpRecord | undefined> {
    const row = (await sql<{ secret: string; confirmed: number }>`SELECT secret, confirmed FROM totp WHERE subject = ${subject}`.execute(await this.conn())).rows[0];
    return row && { secret: row.secret, confirmed: row.confirmed === 1 };
  }

  async setTotp(subject: string, secret: string, confirmed: boolean): Promise<void> {
    await sql`INSERT INTO totp (subject, secret, confirmed) VALUES (${subject}, ${secret}, ${confirmed ? 1 : 0})
      ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed`.execute(await this.conn());
  }

  async useTotpStep(subject: string, step: number): Promise<boolean> {
    return affected(await sql`UPDATE totp SET last_step = ${step} WHERE subject = ${subject} AND last_step < ${step}`.execute(await this.conn())) === 1;
  }

  async removeTotp(subject: string): Promise<boolean> {
    return affected(await sql`DELETE FROM totp WHERE subject = ${subject}`.execute(await this.conn())) === 1;
  }

  async add(keys: readonly string[], n: number, at: number, bucketMs: number): Promise<void> {
    if (keys.length === 0) return;
    const bucket = Math.floor(at / bucketMs) * bucketMs;
    const db = await this.conn();
    await sql`INSERT INTO rate_counts (key, bucket, n) SELECT k, ${bucket}, ${n} FROM unnest(${[...keys]}::text[]) AS k
      ON CONFLICT (key, bucket) DO UPDATE SET n = rate_counts.n + excluded.n`.execute(db);
    // Buckets older than a day count for no window we keep; swept now and then by whichever node adds.
    if (at - this.lastSweep > 60_000) {
      this.lastSweep = at;
      await sql`DELETE FROM rate_counts WHERE bucket < ${at - 86_400_000}`.execute(db);
    }
  }

  async buckets(keys: readonly string[], since: number): Promise<Map<string, [number, number][]>> {
    const found = new Map<string, [number, number][]>();
    if (keys.length === 0) return found;
    const r = await sql<{ key: string; bucket: number; n: number }>`SELECT key, bucket, n FROM rate_counts WHERE key = ANY(${[...keys]}::text[]) AND bucket > ${since} ORDER BY bucket`.execute(await this.conn());
    for (const row of r.rows) {
      const list = found.get(row.key) ?? [];
      list.push([row.bucket, row.n]);
      found.set(row.key, list);
    }
    return found;
  }

  async forget(key: string): Promise<void> {
    await sql`DELETE FROM rate_counts WHERE key = ${key}`.execute(await this.conn());
  }
}
