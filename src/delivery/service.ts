import { HikyakuError } from '../mail/index.js';
import type { RecipientDirectory } from '../directory/index.js';
import { withDeadline, type MailStore } from '../mailstore/index.js';
import { retryDelay, type QueueEntry, type Spool } from '../queue/index.js';
import { deliveryHeader } from '../message/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { AdaptiveLimiter, CircuitBreaker } from './limiter.js';

export interface DeliveryOptions {
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly storeTimeoutMs: number;
}

// Quota problems are the user's to fix, not the store's: retry far less often.
const QUOTA_RETRY_FACTOR = 30;
// A recipient accepted at RCPT but unknown here may be a cache that is behind (another
// thread's or node's): retry a few times before treating it as removed.
const UNKNOWN_RECIPIENT_ATTEMPTS = 5;

/**
 * Delivery workers: lease due queue entries, expand the recipient (aliases, catch-all,
 * forwards), append to each mailbox idempotently, then mark the entry done. A failed
 * or slow store defers the entry with backoff; nothing is dropped.
 */
export class DeliveryService {
  private running = false;
  private inFlight = 0;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly limiter: AdaptiveLimiter;
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly spool: Spool,
    private readonly store: MailStore,
    private readonly directory: RecipientDirectory,
    private readonly options: DeliveryOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.limiter = new AdaptiveLimiter(options.concurrency, Math.max(50, options.storeTimeoutMs / 10));
    this.breaker = new CircuitBreaker(5, Math.min(1000, options.retryBaseMs), options.retryMaxMs);
    spool.onCommit(() => this.wake());
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops leasing, lets deliveries in flight finish (up to `graceMs`), hands back the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    await this.spool.release(this.options.owner);
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.metrics.deliveryLimit.set(this.limiter.limit);
      this.metrics.breakerOpen.set(this.breaker.isOpen ? 1 : 0);
      const wait = this.breaker.waitMs();
      if (wait > 0) {
        await this.idle(wait);
        continue;
      }
      const room = Math.min(this.limiter.limit - this.inFlight, this.breaker.allowance());
      if (room <= 0) {
        await this.idle(this.options.pollMs);
        continue;
      }
      let entries: QueueEntry[];
      try {
        entries = await this.spool.lease(this.options.owner, room, this.options.leaseMs);
      } catch (err) {
        this.log.error({ err }, 'cannot lease from the queue');
        await this.idle(this.options.pollMs);
        continue;
      }
      if (entries.length === 0) {
        await this.idle(this.options.pollMs);
        continue;
      }
      for (const entry of entries) {
        this.inFlight++;
        this.deliver(entry)
          // Whatever fails here, the lease expires and the entry is delivered again.
          .catch((err: unknown) => this.log.error({ err, qid: entry.id }, 'delivery step failed; the entry is retried when its lease expires'))
          .finally(() => {
            this.inFlight--;
            this.wake();
          });
      }
    }
  }

  private async deliver(entry: QueueEntry): Promise<void> {
    const log = this.log.child({ qid: entry.id, mid: entry.messageId, rcpt: entry.rcpt });
    let accounts = this.directory.expand(entry.rcpt);
    if (accounts.length === 0) {
      await this.directory.refresh();
      accounts = this.directory.expand(entry.rcpt);
    }
    if (accounts.length === 0 && entry.attempts < UNKNOWN_RECIPIENT_ATTEMPTS) {
      const delay = retryDelay(entry.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
      log.warn({ retryInMs: delay }, 'recipient not in the directory; retrying in case it was just added');
      this.metrics.deliveries.inc({ outcome: 'deferred' });
      await this.spool.defer(entry, this.options.owner, '4.1.1 recipient not found in the directory', Date.now() + delay);
      return;
    }
    if (accounts.length === 0) {
      // The recipient was removed after the message was accepted. Kept, with its reason,
      // until bounces can be sent (relay arrives with the submission issue).
      log.error('recipient no longer exists; message kept as bounced until a DSN can be sent');
      this.metrics.deliveries.inc({ outcome: 'bounced' });
      await this.spool.bounce(entry, this.options.owner, '5.1.1 recipient no longer exists');
      return;
    }
    const started = Date.now();
    try {
      for (const account of accounts) {
        await withDeadline(
          this.store.append({
            accountId: account.id,
            messageKey: entry.messageId,
            header: deliveryHeader(entry.mailFrom, account.address),
            openBody: () => this.spool.openBody(entry.messageId),
            bodySize: entry.size,
            internalDate: entry.receivedAt,
            quotaBytes: account.quotaBytes,
          }),
          this.options.storeTimeoutMs,
        );
      }
    } catch (err) {
      await this.failed(entry, err, log);
      return;
    }
    const ms = Date.now() - started;
    this.metrics.storeSeconds.observe(ms / 1000);
    this.limiter.onSuccess(ms);
    this.breaker.onSuccess();
    if (!(await this.spool.complete(entry, this.options.owner))) {
      log.warn('lease lost before completion; the entry will be retried and the append is idempotent');
    }
    this.metrics.deliveries.inc({ outcome: 'delivered' });
    log.debug({ accounts: accounts.map((a) => a.address), ms }, 'delivered');
  }

  private async failed(entry: QueueEntry, err: unknown, log: Logger): Promise<void> {
    const quota = err instanceof HikyakuError && err.code === 'ERR_QUOTA_EXCEEDED';
    const factor = quota ? QUOTA_RETRY_FACTOR : 1;
    const delay = retryDelay(entry.attempts, this.options.retryBaseMs * factor, this.options.retryMaxMs * factor);
    if (quota) {
      log.warn({ err, retryInMs: delay }, 'mailbox over quota; delivery deferred');
      this.metrics.deliveries.inc({ outcome: 'over_quota' });
    } else {
      this.limiter.onOverload();
      this.breaker.onFailure();
      log.warn({ err, attempts: entry.attempts, retryInMs: delay }, 'mailbox store failed; delivery deferred');
      this.metrics.deliveries.inc({ outcome: 'deferred' });
    }
    try {
      await this.spool.defer(entry, this.options.owner, String((err as Error).message ?? err), Date.now() + delay);
    } catch (deferErr) {
      // The lease expires and the entry is retried; nothing is lost.
      log.error({ err: deferErr }, 'cannot defer entry; it is retried when its lease expires');
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
