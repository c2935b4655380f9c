import type { AccountRecord, DomainRecord } from '../directory/index.js';
import { withDeadline, type MailStore } from '../mailstore/index.js';
import type { Logger, Metrics } from '../observability/index.js';

export interface RetentionOptions {
  /** How often the rules are applied. */
  readonly intervalMs: number;
  /** Messages removed per expunge (one commit each). */
  readonly batch: number;
  readonly storeTimeoutMs: number;
}

/** What the job reads of the directory: from memory, so a run never waits on the directory store. */
export interface RetentionDirectory {
  domains(): DomainRecord[];
  accountsIn(domain: string): AccountRecord[];
}

/**
 * The retention rules of the domains that have one (off by default): messages older than
 * the domain's days (by their arrival) are removed from its mailboxes, in batches, each
 * batch one durable expunge. A store that fails or does not answer ends the run; the next
 * one goes on where it is (deleting is idempotent). Counted and logged per domain.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly directory: RetentionDirectory,
    private readonly store: MailStore,
    private readonly options: RetentionOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .catch((err: unknown) => this.log.warn({ err }, 'retention run stopped; the next one goes on'))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every domain with a rule; returns how many messages went, by domain. */
  async runOnce(now = Date.now()): Promise<Map<string, number>> {
    const removed = new Map<string, number>();
    for (const domain of this.directory.domains()) {
      if (!domain.retentionDays) continue;
      const before = now - domain.retentionDays * 86_400_000;
      let n = 0;
      for (const account of this.directory.accountsIn(domain.name)) {
        const old = (await withDeadline(this.store.list(account.id), this.options.storeTimeoutMs)).filter((m) => m.internalDate < before).map((m) => m.uid);
        for (let i = 0; i < old.length; i += this.options.batch) {
          const gone = await withDeadline(this.store.expunge(account.id, old.slice(i, i + this.options.batch)), this.options.storeTimeoutMs);
          n += gone;
          this.metrics.retentionRemoved.inc(gone);
        }
      }
      removed.set(domain.name, n);
      if (n > 0) this.log.info({ domain: domain.name, days: domain.retentionDays, removed: n }, 'retention: old mail removed');
    }
    this.metrics.retentionRuns.inc();
    return removed;
  }
}
