import type { BacklogHistory, BacklogSample, NoticeInput, NoticeStore, ServiceName, ServiceNotice } from '../../notices/index.js';
import { sql } from './db.js';
import { toNotice, type NoticeRow } from '../portal-rows.js';
import { DirectoryFile } from './directory-schema.js';

/** Notices and the backlog's history in directory.db, on their own connection (as the portal's other state). */
export class SqliteNoticeStore extends DirectoryFile implements NoticeStore, BacklogHistory {
  async createNotice(input: NoticeInput, author: string): Promise<ServiceNotice> {
    return toNotice(this.insert(input, author, false, null, '') as NoticeRow);
  }

  async openAutoIncident(service: ServiceName, input: NoticeInput, draft: boolean): Promise<ServiceNotice | undefined> {
    // The partial unique index keeps one open per service: a second instance's insert does nothing.
    const row = this.insert(input, 'automatic', draft, service, 'ON CONFLICT DO NOTHING');
    return row && toNotice(row);
  }

  private insert(input: NoticeInput, author: string, draft: boolean, service: ServiceName | null, conflict: string): NoticeRow | undefined {
    const now = Date.now();
    return sql(
      this.db,
      `INSERT INTO notices (kind, title, body, services, tenants, starts_at, ends_at, service_stops, created_at, updated_at, author, draft, auto_service)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${conflict} RETURNING *`,
    ).get(input.kind, input.title, input.body, JSON.stringify(input.services), JSON.stringify(input.tenants), input.startsAt, input.endsAt, input.serviceStops ? 1 : 0, now, now, author, draft ? 1 : 0, service) as NoticeRow | undefined;
  }

  async publishNotice(id: number): Promise<ServiceNotice | undefined> {
    const row = sql(this.db, 'UPDATE notices SET draft = 0, updated_at = CASE WHEN draft = 1 THEN ? ELSE updated_at END WHERE id = ? RETURNING *').get(Date.now(), id) as NoticeRow | undefined;
    return row && toNotice(row);
  }

  async reviseNotice(id: number, input: NoticeInput): Promise<ServiceNotice | undefined> {
    const row = sql(
      this.db,
      `UPDATE notices SET kind = ?, title = ?, body = ?, services = ?, tenants = ?, starts_at = ?, ends_at = ?, service_stops = ?, updated_at = ?, revision = revision + 1
       WHERE id = ? RETURNING *`,
    ).get(input.kind, input.title, input.body, JSON.stringify(input.services), JSON.stringify(input.tenants), input.startsAt, input.endsAt, input.serviceStops ? 1 : 0, Date.now(), id) as NoticeRow | undefined;
    return row && toNotice(row);
  }

  async closeNotice(id: number): Promise<ServiceNotice | undefined> {
    const now = Date.now();
    const row = sql(this.db, 'UPDATE notices SET closed_at = coalesce(closed_at, ?), updated_at = CASE WHEN closed_at IS NULL THEN ? ELSE updated_at END WHERE id = ? RETURNING *').get(now, now, id) as NoticeRow | undefined;
    return row && toNotice(row);
  }

  async listNotices(filter: { open?: boolean; since?: number; limit: number }): Promise<ServiceNotice[]> {
    const rows = filter.open
      ? sql(this.db, 'SELECT * FROM notices WHERE closed_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT ?').all(filter.limit)
      : sql(this.db, 'SELECT * FROM notices WHERE coalesce(closed_at, updated_at) >= ? ORDER BY starts_at DESC, id DESC LIMIT ?').all(filter.since ?? 0, filter.limit);
    return (rows as NoticeRow[]).map(toNotice);
  }


  async recordSample(sample: BacklogSample, intervalMs: number, keepMs: number): Promise<void> {
    const at = Math.floor(sample.at / intervalMs) * intervalMs;
    const latency = sample.latencySeconds === null ? null : Math.round(sample.latencySeconds * 1000);
    sql(this.db, 'INSERT OR REPLACE INTO backlog_samples (at, waiting, deferred, oldest_seconds, latency_ms) VALUES (?, ?, ?, ?, ?)').run(at, sample.waiting, sample.deferred, Math.round(sample.oldestSeconds), latency);
    sql(this.db, 'DELETE FROM backlog_samples WHERE at < ?').run(at - keepMs);
  }

  async samples(since: number): Promise<BacklogSample[]> {
    const rows = sql(this.db, 'SELECT at, waiting, deferred, oldest_seconds, latency_ms FROM backlog_samples WHERE at >= ? ORDER BY at').all(since) as { at: number; waiting: number; deferred: number; oldest_seconds: number; latency_ms: number | null }[];
    return rows.map((r) => ({ at: r.at, waiting: r.waiting, deferred: r.deferred, oldestSeconds: r.oldest_seconds, latencySeconds: r.latency_ms === null ? null : r.latency_ms / 1000 }));
  }
}
