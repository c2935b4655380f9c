/**
 * The PostgreSQL spool's common completion (nothing spawned or queued, no failed attempts
 * logged), batched (see Batcher), in one statement. Message rows whose last entry that was
 * are left with nothing remaining (no read sees them: bodies are read from rows with
 * something remaining) and removed by the next batch's statement, or PURGE_MS later when
 * none comes: a commit fewer per batch. A crash in between leaves such rows to recover().
 */
import { sql, type Kysely } from 'kysely';
import type { QueueEntry } from '../../queue/index.js';
import { Batcher, type Outcome } from './batcher.js';

const COMPLETE_BATCH = 256;
const PURGE_MS = 200;

const purge = (ids: readonly string[]) => sql`DELETE FROM spool_messages WHERE id = ANY(${[...ids]}::text[]) AND remaining = 0`;

export class SpoolCompletions {
  private readonly batches: Batcher<QueueEntry, boolean>;
  private readonly emptied: string[] = [];
  private timer?: NodeJS.Timeout;
  private closed = false;

  /** `failed` maps a database error to what the spool's callers see. */
  constructor(
    private readonly conn: () => Promise<Kysely<any>>,
    lanes: number,
    private readonly failed: (err: unknown) => unknown,
  ) {
    this.batches = new Batcher((entries) => this.run(entries), COMPLETE_BATCH, lanes);
  }

  /** True when the entry was completed by this call (its lease still held). */
  complete(entry: QueueEntry): Promise<boolean> {
    return this.batches.add(entry);
  }

  private async run(entries: readonly QueueEntry[]): Promise<Outcome<boolean>[]> {
    const taken = this.emptied.splice(0);
    try {
      const r = await sql<{ id: number; token: string; message_id: string; remaining: number }>`
        WITH purged AS (${purge(taken)}),
             gone AS (DELETE FROM spool_entries e USING unnest(${entries.map((e) => e.id)}::bigint[], ${entries.map((e) => e.leaseToken)}::text[]) AS h(id, token)
                      WHERE e.id = h.id AND e.lease_token = h.token AND e.state = 'active' RETURNING e.id, e.lease_token AS token, e.message_id),
             counted AS (SELECT message_id, count(*)::int AS n FROM gone GROUP BY message_id),
             left_ AS (UPDATE spool_messages m SET remaining = m.remaining - c.n FROM counted c WHERE m.id = c.message_id RETURNING m.id, m.remaining)
        SELECT gone.id, gone.token, gone.message_id, left_.remaining FROM gone JOIN left_ ON left_.id = gone.message_id`.execute(await this.conn());
      this.emptied.push(...new Set(r.rows.filter((x) => x.remaining === 0).map((x) => x.message_id)));
      this.purgeLater();
      // Each completed entry answers true once, to a call with its token; repeats and forged tokens are refused.
      const done = new Set(r.rows.map((x) => `${x.id} ${x.token}`));
      return entries.map((e) => ({ ok: done.delete(`${e.id} ${e.leaseToken}`) }));
    } catch (err) {
      this.emptied.push(...taken);
      throw this.failed(err);
    }
  }

  /** Removes the emptied message rows PURGE_MS from now unless a completion takes them first. */
  private purgeLater(): void {
    if (this.timer || this.emptied.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.purgeNow();
    }, PURGE_MS);
    this.timer.unref();
  }

  private async purgeNow(): Promise<void> {
    const taken = this.emptied.splice(0);
    if (taken.length === 0) return;
    await purge(taken)
      .execute(await this.conn())
      .catch(() => this.emptied.push(...taken));
  }

  /** Removes what is left to remove (a failure leaves it to recover()). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.purgeNow();
  }
}
