import { sql, type RawBuilder } from 'kysely';
import type { BacklogHistory, BacklogSample, NoticeInput, NoticeStore, ServiceName, ServiceNotice } from '../../notices/index.js';
import { toNotice, type NoticeRow } from '../portal-rows.js';
import { NOTICE_MIGRATIONS } from './directory-schema.js';
import { PgStore, type PgOptions } from './pool.js';

/** Notices and the backlog's history on PostgreSQL beside the directory: every portal node shows the same. */
export class PgNoticeStore extends PgStore implements NoticeStore, BacklogHistory {
  constructor(url: string, options: PgOptions = {}) {
    super(url, options, 'notices', NOTICE_MIGRATIONS);
  }

  private async row(query: RawBuilder<NoticeRow>): Promise<ServiceNotice | undefined> {
    const row = (await query.execute(await this.conn())).rows[0];
    return row && toNotice(row);
  }

  async createNotice(input: NoticeInput, author: string): Promise<ServiceNotice> {
    return (await this.row(this.insert(input, author, false, null, sql``)))!;
  }

  async openAutoIncident(service: ServiceName, input: NoticeInput, draft: boolean): Promise<ServiceNotice | undefined> {
    // The partial unique index keeps one open per service: a second node's insert does nothing.
    return this.row(this.insert(input, 'automatic', draft, service, sql`ON CONFLICT DO NOTHING`));
  }

  private insert(input: NoticeInput, author: string, draft: boolean, service: ServiceName | null, conflict: RawBuilder<unknown>): RawBuilder<NoticeRow> {
    const now = Date.now();
    return sql<NoticeRow>`INSERT INTO notices (kind, title, body, services, tenants, starts_at, ends_at, service_stops, created_at, updated_at, author, draft, auto_service)
      VALUES (${input.kind}, ${input.title}, ${input.body}, ${JSON.stringify(input.services)}, ${JSON.stringify(input.tenants)}, ${input.startsAt}, ${input.endsAt},
              ${input.serviceStops ? 1 : 0}, ${now}, ${now}, ${author}, ${draft ? 1 : 0}, ${service}) ${conflict} RETURNING *`;
  }

  async publishNotice(id: number): Promise<ServiceNotice | undefined> {
    return this.row(sql<NoticeRow>`UPDATE notices SET draft = 0, updated_at = CASE WHEN draft = 1 THEN ${Date.now()} ELSE updated_at END WHERE id = ${id} RETURNING *`);
  }

  async reviseNotice(id: number, input: NoticeInput): Promise<ServiceNotice | undefined> {
    return this.row(sql<NoticeRow>`UPDATE notices SET kind = ${input.kind}, title = ${input.title}, body = ${input.body}, services = ${JSON.stringify(input.services)},
      tenants = ${JSON.stringify(input.tenants)}, starts_at = ${input.startsAt}, ends_at = ${input.endsAt}, service_stops = ${input.serviceStops ? 1 : 0},
      updated_at = ${Date.now()}, revision = revision + 1 WHERE id = ${id} RETURNING *`);
  }

  async closeNotice(id: number): Promise<ServiceNotice | undefined> {
    const now = Date.now();
    return this.row(sql<NoticeRow>`UPDATE notices SET closed_at = coalesce(closed_at, ${now}), updated_at = CASE WHEN closed_at IS NULL THEN ${now} ELSE updated_at END WHERE id = ${id} RETURNING *`);
  }

  async listNotices(filter: { open?: boolean; since?: number; limit: number }): Promise<ServiceNotice[]> {
    const where = filter.open ? sql`closed_at IS NULL` : sql`coalesce(closed_at, updated_at) >= ${filter.since ?? 0}`;
    const r = await sql<NoticeRow>`SELECT * FROM notices WHERE ${where} ORDER BY starts_at DESC, id DESC LIMIT ${filter.limit}`.execute(await this.conn());
    return r.rows.map(toNotice);
  }

  async recordSample(sample: BacklogSample, intervalMs: number, keepMs: number): Promise<void> {
    const at = Math.floor(sample.at / intervalMs) * intervalMs;
    const latency = sample.latencySeconds === null ? null : Math.round(sample.latencySeconds * 1000);
    const db = await this.conn();
    await sql`INSERT INTO backlog_samples (at, waiting, deferred, oldest_seconds, latency_ms) VALUES (${at}, ${sample.waiting}, ${sample.deferred}, ${Math.round(sample.oldestSeconds)}, ${latency})
      ON CONFLICT (at) DO UPDATE SET waiting = excluded.waiting, deferred = excluded.deferred, oldest_seconds = excluded.oldest_seconds, latency_ms = excluded.latency_ms`.execute(db);
    await sql`DELETE FROM backlog_samples WHERE at < ${at - keepMs}`.execute(db);
  }

  async samples(since: number): Promise<BacklogSample[]> {
    const r = await sql<{ at: number; waiting: number; deferred: number; oldest_seconds: number; latency_ms: number | null }>`
      SELECT at, waiting, deferred, oldest_seconds, latency_ms FROM backlog_samples WHERE at >= ${since} ORDER BY at`.execute(await this.conn());
    return r.rows.map((x) => ({ at: x.at, waiting: x.waiting, deferred: x.deferred, oldestSeconds: x.oldest_seconds, latencySeconds: x.latency_ms === null ? null : x.latency_ms / 1000 }));
  }
}
