import type { QueueEntry, Spool } from '../queue/index.js';
import type { Logger } from '../observability/index.js';

/**
 * Keeps the leases of entries in flight alive: every third of the lease it renews them all
 * in one call, so a step longer than the lease (a slow remote, a slow store) never lets
 * another worker, or this one, take an entry that is still being delivered.
 */
export class LeaseKeeper {
  private readonly held = new Set<QueueEntry>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly spool: Spool,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  hold(entries: readonly QueueEntry[]): void {
    for (const e of entries) this.held.add(e);
  }

  drop(entries: readonly QueueEntry[]): void {
    for (const e of entries) this.held.delete(e);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const entries = [...this.held];
    try {
      const kept = await this.spool.renew(entries, this.leaseMs);
      if (kept < entries.length) this.log.warn({ held: entries.length, renewed: kept }, 'some leases were lost before renewal; their settle steps will be refused');
    } catch (err) {
      this.log.warn({ err }, 'cannot renew queue leases; they may expire and be taken again');
    } finally {
      this.renewing = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
