/**
 * How the PostgreSQL spool's new work reaches delivery: this process's listeners at once,
 * other nodes through NOTIFY, heard with LISTEN on a connection of its own (and after each
 * reconnect of it, since what was sent meanwhile is lost).
 */
import { sql, type Kysely } from 'kysely';
import { listen } from './pool.js';

// Other nodes hear of new work at most this often (their delivery wakes; without it they look every delivery.pollMs).
const ANNOUNCE_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SpoolWakeUps {
  private readonly listeners: (() => void)[] = [];
  private stopListening?: () => Promise<void>;
  private announcing = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly conn: () => Promise<Kysely<any>>,
  ) {}

  /** `listener` hears commits of this process at once and of other nodes through LISTEN. */
  add(listener: () => void): void {
    this.listeners.push(listener);
    this.stopListening ??= listen(this.url, this.channel, () => this.tell());
  }

  /** New work was committed here. */
  notify(): void {
    this.tell();
    this.announce();
  }

  private tell(): void {
    for (const l of this.listeners) l();
  }

  /**
   * NOTIFY in a statement of its own, never in the data's transactions (a NOTIFY takes a
   * lock at commit that would line every commit up behind it), and at most one per
   * ANNOUNCE_MS: a wake-up, not a message, so many commits share one.
   */
  private announce(): void {
    if (this.announcing) {
      this.again = true;
      return;
    }
    this.announcing = true;
    const started = Date.now();
    void this.conn()
      .then((db) => sql`SELECT pg_notify(${this.channel}, '')`.execute(db))
      .catch(() => undefined)
      .then(() => sleep(Math.max(0, started + ANNOUNCE_MS - Date.now())))
      .then(() => {
        this.announcing = false;
        if (!this.again || this.closed) return;
        this.again = false;
        this.announce();
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopListening?.();
  }
}
