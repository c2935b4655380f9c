import { randomBytes } from 'node:crypto';
import type { AuditEntry, AuditLog } from '../../directory/index.js';
import type { ApiToken, ApiTokenStore, LastLogin, PortalSession, SessionKind, SessionStore, TotpRecord, TotpStore } from '../../auth/index.js';
import { sql } from './db.js';
import { hashOf, newApiToken, parseApiToken, secretMatches, toSession, toToken, tokenUseDue, type SessionRow, type TokenRow } from '../portal-rows.js';
import { DirectoryFile } from './directory-schema.js';

/**
 * The portal's sessions, last logins and audit log, in directory.db beside the directory
 * (its own connection: these writes do not bump the directory's version, so caches do
 * not reload on every login).
 */
export class SqlitePortalState extends DirectoryFile implements SessionStore, AuditLog, ApiTokenStore, TotpStore {
  async create(input: { subject: string; kind: SessionKind; ip: string; ttlMs: number; csrf: string }): Promise<{ token: string; session: PortalSession }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const row: SessionRow = { subject: input.subject, kind: input.kind, csrf: input.csrf, ip: input.ip, created_at: now, seen_at: now, expires_at: now + input.ttlMs };
    sql(this.db, 'INSERT INTO portal_sessions (id, subject, kind, csrf, ip, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      hashOf(token), row.subject, row.kind, row.csrf, row.ip, row.created_at, row.seen_at, row.expires_at,
    );
    return { token, session: toSession(row) };
  }

  async get(token: string, now = Date.now()): Promise<PortalSession | undefined> {
    const row = sql(this.db, 'SELECT * FROM portal_sessions WHERE id = ?').get(hashOf(token)) as SessionRow | undefined;
    return row && row.expires_at > now ? toSession(row) : undefined;
  }

  async touch(token: string, seenAt: number, expiresAt: number): Promise<void> {
    sql(this.db, 'UPDATE portal_sessions SET seen_at = ?, expires_at = ? WHERE id = ?').run(seenAt, expiresAt, hashOf(token));
  }

  async remove(token: string): Promise<void> {
    sql(this.db, 'DELETE FROM portal_sessions WHERE id = ?').run(hashOf(token));
  }

  async removeSubject(subject: string, keep?: string): Promise<number> {
    return sql(this.db, 'DELETE FROM portal_sessions WHERE subject = ? AND id != ?').run(subject, keep ? hashOf(keep) : '').changes;
  }

  async sweep(now = Date.now()): Promise<number> {
    return sql(this.db, 'DELETE FROM portal_sessions WHERE expires_at <= ?').run(now).changes;
  }

  async recordLogins(logins: ReadonlyMap<string, LastLogin>): Promise<void> {
    // One transaction, one fsync: the calls are synchronous, and a commit each would hold the
    // event loop for as many fsyncs as there were logins.
    const upsert = sql(this.db, 'INSERT INTO last_logins (subject, at, ip, protocol) VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET at = excluded.at, ip = excluded.ip, protocol = excluded.protocol WHERE last_logins.at <= excluded.at');
    this.db.transaction(() => {
      for (const [subject, login] of logins) upsert.run(subject, login.at, login.ip, login.protocol);
    })();
  }

  async lastLogins(subjects: readonly string[]): Promise<Map<string, LastLogin>> {
    const found = new Map<string, LastLogin>();
    const stmt = sql(this.db, 'SELECT at, ip, protocol FROM last_logins WHERE subject = ?');
    for (const subject of subjects) {
      const row = stmt.get(subject) as LastLogin | undefined;
      if (row) found.set(subject, { at: row.at, ip: row.ip, protocol: row.protocol });
    }
    return found;
  }

  async append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    sql(this.db, 'INSERT INTO audit_log (at, tenant, actor, ip, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      Date.now(), entry.tenant, entry.actor, entry.ip, entry.action, entry.target, JSON.stringify(entry.detail),
    );
  }

  async list(filter: { tenant?: string; limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    const before = filter.beforeId ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      filter.tenant === undefined
        ? sql(this.db, 'SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?').all(before, filter.limit)
        : sql(this.db, 'SELECT * FROM audit_log WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?').all(filter.tenant, before, filter.limit)
    ) as (Omit<AuditEntry, 'detail'> & { detail: string })[];
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  async createToken(input: { name: string; tenant: string | null; createdBy: string }): Promise<{ token: string; record: ApiToken }> {
    const { id, secret, token } = newApiToken();
    const record: ApiToken = { id, name: input.name, tenant: input.tenant, createdBy: input.createdBy, createdAt: Date.now(), lastUsedAt: null };
    sql(this.db, 'INSERT INTO api_tokens (id, secret_hash, name, tenant, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, hashOf(secret), record.name, record.tenant, record.createdBy, record.createdAt);
    return { token, record };
  }

  async verifyToken(presented: string, now = Date.now()): Promise<ApiToken | undefined> {
    const parsed = parseApiToken(presented);
    if (!parsed) return undefined;
    const row = sql(this.db, 'SELECT * FROM api_tokens WHERE id = ?').get(parsed.id) as TokenRow | undefined;
    if (!row || !secretMatches(row, parsed.secret)) return undefined;
    if (tokenUseDue(row, now)) sql(this.db, 'UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, row.id);
    return toToken(row);
  }

  async listTokens(tenant: string | null | undefined): Promise<ApiToken[]> {
    const rows = tenant === undefined ? sql(this.db, 'SELECT * FROM api_tokens ORDER BY created_at').all() : sql(this.db, 'SELECT * FROM api_tokens WHERE tenant IS ? ORDER BY created_at').all(tenant);
    return (rows as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, tenant: string | null | undefined): Promise<boolean> {
    const r = tenant === undefined ? sql(this.db, 'DELETE FROM api_tokens WHERE id = ?').run(id) : sql(this.db, 'DELETE FROM api_tokens WHERE id = ? AND tenant IS ?').run(id, tenant);
    return r.changes === 1;
  }

  async getTotp(subject: string): Promise<TotpRecord | undefined> {
    const row = sql(this.db, 'SELECT secret, confirmed FROM totp WHERE subject = ?').get(subject) as { secret: string; confirmed: number } | undefined;
    return row && { secret: row.secret, confirmed: row.confirmed === 1 };
  }

  async setTotp(subject: string, secret: string, confirmed: boolean): Promise<void> {
    sql(this.db, 'INSERT INTO totp (subject, secret, confirmed) VALUES (?, ?, ?) ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed').run(subject, secret, confirmed ? 1 : 0);
  }

  async useTotpStep(subject: string, step: number): Promise<boolean> {
    return sql(this.db, 'UPDATE totp SET last_step = ? WHERE subject = ? AND last_step < ?').run(step, subject, step).changes === 1;
  }

  async removeTotp(subject: string): Promise<boolean> {
    return sql(this.db, 'DELETE FROM totp WHERE subject = ?').run(subject).changes === 1;
  }

}
