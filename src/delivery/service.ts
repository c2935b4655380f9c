import { HikyakuError, domainOf, isSrsAddress, srsDecode, srsEncode } from '../mail/index.js';
import type { Expansion, ForwardRecord, RecipientDirectory } from '../directory/index.js';
import { withDeadline, type MailStore } from '../mailstore/index.js';
import { retryDelay, type QueueEntry, type Route, type Spawn, type Spool } from '../queue/index.js';
import { deliveryHeader, type DsnRecipient } from '../message/index.js';
import { crashPoint, type Logger, type Metrics } from '../observability/index.js';
import { AdaptiveLimiter, CircuitBreaker } from './limiter.js';
import { LeaseKeeper } from './lease-keeper.js';
import { dsnNotice } from './bounces.js';
import { autoReplyNotices } from './auto-reply.js';
import { forwardConditionTest } from './forward-conditions.js';
import { quotaWarnings } from './quota-warning.js';
import type { RemoteDelivery } from './remote.js';

export interface DeliveryOptions {
  readonly owner: string;
  /** Our host name: Reporting-MTA of DSNs. */
  readonly hostname: string;
  readonly concurrency: number;
  /** Most remote (relay) deliveries in flight. */
  readonly relayConcurrency: number;
  /** Secret of SRS addresses (forwarding to other domains, and their bounces). */
  readonly srsSecret: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly storeTimeoutMs: number;
  /** Past this age a message still not in its mailbox is bounced (a store outage shorter than this never bounces). */
  readonly maxAgeMs: number;
  /** Past this age, a still-deferred message earns its sender one delay warning. */
  readonly delayWarningMs: number;
  /** A mailbox over quota for this long (counted from arrival) bounces the message with 5.2.2. */
  readonly quotaGraceMs: number;
  /** One automatic reply per sender per account within this long. */
  readonly autoReplyIntervalMs: number;
  /** A mailbox past this share of its quota (percent) gets a warning, again after a week if still so; 0: never. */
  readonly quotaWarningPercent: number;
}

const WEEK_MS = 7 * 86_400_000;

// Quota problems are the user's to fix, not the store's: retry far less often.
const QUOTA_RETRY_FACTOR = 30;
// A recipient accepted at RCPT but unknown here may be a cache that is behind (another
// thread's or node's): retry a few times before treating it as removed.
const UNKNOWN_RECIPIENT_ATTEMPTS = 5;

/**
 * Delivery workers: lease due queue entries, expand the recipient (aliases, catch-all,
 * forwards), append to each mailbox idempotently, then mark the entry done. A failed
 * or slow store defers the entry with backoff; nothing is dropped. Remote entries run in
 * their own loop with their own limit, so slow remote servers never hold up mailboxes.
 */
export class DeliveryService {
  private running = false;
  private readonly inFlight: Record<Route, number> = { local: 0, remote: 0 };
  private readonly wakeUps = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private readonly limiter: AdaptiveLimiter;
  private readonly breaker: CircuitBreaker;
  private readonly keeper: LeaseKeeper;

  constructor(
    private readonly spool: Spool,
    private readonly store: MailStore,
    private readonly directory: RecipientDirectory,
    private readonly remote: RemoteDelivery,
    private readonly options: DeliveryOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.limiter = new AdaptiveLimiter(options.concurrency, Math.max(50, options.storeTimeoutMs / 10));
    // A probe settles within the store deadline; twice that is a safe expiry for a forgotten one.
    this.breaker = new CircuitBreaker(5, Math.min(1000, options.retryBaseMs), options.retryMaxMs, 2 * options.storeTimeoutMs);
    this.keeper = new LeaseKeeper(spool, options.leaseMs, log);
    spool.onCommit(() => this.wake());
  }

  start(): void {
    this.running = true;
    this.loops = [this.run('local'), this.run('remote')];
  }

  /** Stops leasing, lets deliveries in flight finish (up to `graceMs`), hands back the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
    const deadline = Date.now() + graceMs;
    while (this.inFlight.local + this.inFlight.remote > 0 && Date.now() < deadline) await sleep(20);
    this.keeper.stop();
    this.remote.close();
    await this.spool.release(this.options.owner);
  }

  wake(): void {
    const all = [...this.wakeUps];
    this.wakeUps.clear();
    for (const w of all) w();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUps.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUps.add(done);
    });
  }

  /**
   * How many more entries of `route` may start now; for local, 0 with a wait while the
   * breaker is open, and when half-open one entry as the breaker's probe (`probe` non-zero).
   */
  private room(route: Route): { room: number; waitMs: number; probe: number } {
    // Before the directory has loaded every recipient would look unknown: wait instead.
    if (!this.directory.loaded) return { room: 0, waitMs: this.options.pollMs, probe: 0 };
    if (route === 'local') {
      this.metrics.deliveryLimit.set(this.limiter.limit);
      this.metrics.breakerOpen.set(this.breaker.isOpen ? 1 : 0);
    }
    const limit = route === 'remote' ? this.options.relayConcurrency : this.limiter.limit;
    const free = limit - this.inFlight[route];
    // While work is in flight, lease in chunks (a quarter of the limit), not one entry per finished delivery: a store across a network is paid per round trip.
    if (this.inFlight[route] > 0 && free < Math.max(1, limit >> 2)) return { room: 0, waitMs: this.options.pollMs, probe: 0 };
    if (route === 'remote') return { room: free, waitMs: this.options.pollMs, probe: 0 };
    const wait = this.breaker.waitMs();
    if (wait > 0) return { room: 0, waitMs: wait, probe: 0 };
    const { n, probe } = this.breaker.allowance();
    return { room: Math.min(free, n), waitMs: this.options.pollMs, probe };
  }

  private async run(route: Route): Promise<void> {
    while (this.running) {
      const { room, waitMs, probe } = this.room(route);
      if (room <= 0) {
        await this.idle(waitMs);
        continue;
      }
      let entries: QueueEntry[] = [];
      try {
        const timer = this.metrics.leaseSeconds.startTimer();
        entries = await this.spool.lease(this.options.owner, room, this.options.leaseMs, route);
        timer();
      } catch (err) {
        this.log.error({ err }, 'cannot lease from the queue');
      }
      if (entries.length === 0) {
        // Nothing due (or the queue failed): the probe never reached the store.
        if (probe) this.breaker.cancelProbe(probe);
        await this.idle(this.options.pollMs);
        continue;
      }
      // Remote entries of one message, sender and domain travel in one transaction.
      const batches = route === 'local' ? entries.map((e) => [e]) : groupByDestination(entries);
      this.keeper.hold(entries);
      for (const batch of batches) {
        this.inFlight[route]++;
        (route === 'local' ? this.deliver(batch[0]!) : this.remote.deliver(batch, this.keeper))
          // Whatever fails here, the leases expire and the entries are delivered again.
          .catch((err: unknown) => this.log.error({ err, qids: batch.map((e) => e.id) }, 'delivery step failed; retried when the lease expires'))
          .finally(() => {
            // A probe that never touched the store (bounce, relay, forward only, over quota) is no verdict.
            if (probe) this.breaker.cancelProbe(probe);
            this.keeper.drop(batch);
            this.inFlight[route]--;
            this.wake();
          });
      }
    }
  }

  private async deliver(entry: QueueEntry): Promise<void> {
    const log = this.log.child({ qid: entry.id, mid: entry.messageId, rcpt: entry.rcpt });
    if (isSrsAddress(entry.rcpt)) return this.srsBounce(entry, log);
    // The message's header is read only when a conditional forward is on this recipient's path.
    let conditional = false;
    let follows: ((f: ForwardRecord) => boolean) | undefined = this.directory.hasConditionalForwards ? (f) => ((conditional ||= f.conditions !== null), true) : undefined;
    let expansion = this.expand(entry, follows);
    if (conditional) {
      follows = await forwardConditionTest(this.spool, entry, log);
      expansion = this.expand(entry, follows);
    }
    if (expansion.accounts.length + expansion.remote.length === 0) {
      await this.directory.refresh();
      expansion = this.expand(entry, follows);
    }
    const { accounts, remote } = expansion;
    if (accounts.length + remote.length === 0 && entry.attempts < UNKNOWN_RECIPIENT_ATTEMPTS) {
      const delay = retryDelay(entry.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
      log.warn({ retryInMs: delay }, 'recipient not in the directory; retrying in case it was just added');
      this.metrics.deliveries.inc({ outcome: 'deferred' });
      await this.spool.defer(entry, '4.1.1 recipient not found in the directory', Date.now() + delay);
      return;
    }
    if (accounts.length + remote.length === 0) {
      log.error('recipient no longer exists; bounced');
      return this.bounce(entry, { rcpt: entry.rcpt, action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 the recipient no longer exists' });
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
    crashPoint('after-append');
    const ms = Date.now() - started;
    if (accounts.length > 0) {
      this.metrics.storeSeconds.observe(ms / 1000);
      this.limiter.onSuccess(ms);
      this.breaker.onSuccess();
    }
    // Forwards to other domains become remote entries of the same message, in the commit that completes this one.
    const mailFrom = this.forwardSender(entry);
    const spawn: Spawn[] = remote.map((rcpt) => ({ rcpt, mailFrom, route: 'remote' }));
    const replies = [
      ...(await autoReplyNotices(this.spool, this.directory, entry, accounts, { hostname: this.options.hostname, intervalMs: this.options.autoReplyIntervalMs }, log)),
      ...(this.options.quotaWarningPercent > 0
        ? await quotaWarnings(this.store, this.directory, accounts, { hostname: this.options.hostname, percent: this.options.quotaWarningPercent, repeatMs: WEEK_MS, storeTimeoutMs: this.options.storeTimeoutMs }, log)
        : []),
    ];
    if (!(await this.spool.complete(entry, spawn, replies))) {
      log.warn('lease lost before completion; the entry will be retried and the append is idempotent');
    }
    this.metrics.deliveries.inc({ outcome: 'delivered' });
    this.metrics.deliveryLatency.observe({ route: 'local' }, Math.max(0, Date.now() - entry.receivedAt) / 1000);
    log.debug({ accounts: accounts.map((a) => a.address), forwardedTo: remote, ms }, 'delivered');
  }

  /**
   * Where the entry goes. Mail from a null sender, postmaster or MAILER-DAEMON (bounces,
   * reports) is never forwarded out, so bounce loops cannot start here; when it reaches no
   * mailbox it goes to the postmaster of the recipient's domain (Postfix's double bounce).
   */
  private expand(entry: QueueEntry, follows?: (f: ForwardRecord) => boolean): Expansion {
    if (!isAutomatedSender(entry.mailFrom)) return this.directory.expand(entry.rcpt, false, follows);
    const here = this.directory.expand(entry.rcpt, true, follows);
    return here.accounts.length > 0 ? here : this.directory.expand(`postmaster@${domainOf(entry.rcpt)}`, true, follows);
  }

  /**
   * The reverse-path of a forward to another domain: the sender rewritten with SRS under
   * the forwarding domain, so SPF passes at the destination; unchanged when the sender is
   * ours (SPF passes anyway) or null (a bounce stays a bounce).
   */
  private forwardSender(entry: QueueEntry): string {
    const from = entry.mailFrom;
    if (from === '' || this.directory.isHostedDomain(domainOf(from.toLowerCase()))) return from;
    return srsEncode(from, domainOf(entry.rcpt), this.options.srsSecret);
  }

  /** Mail to one of our SRS addresses (a bounce of a forward) goes back to the original sender. */
  private async srsBounce(entry: QueueEntry, log: Logger): Promise<void> {
    const decoded = srsDecode(entry.rcpt, this.options.srsSecret);
    if ('error' in decoded) {
      log.warn({ reason: decoded.error }, 'SRS address not valid any more; bounced');
      return this.bounce(entry, { rcpt: entry.rcpt, action: 'failed', status: '5.1.1', diagnostic: `550 5.1.1 ${decoded.error}` });
    }
    const route: Route = this.directory.isHostedDomain(domainOf(decoded.sender.toLowerCase())) ? 'local' : 'remote';
    await this.spool.complete(entry, [{ rcpt: route === 'local' ? decoded.sender.toLowerCase() : decoded.sender, mailFrom: entry.mailFrom, route }]);
    log.info({ to: decoded.sender }, 'SRS address resolved; passed on to the original sender');
  }

  private async bounce(entry: QueueEntry, reason: DsnRecipient): Promise<void> {
    const notice = await dsnNotice(this.spool, this.directory, this.options.hostname, entry, [reason]);
    if (notice) this.metrics.dsnQueued.inc({ kind: 'failed' });
    this.metrics.deliveries.inc({ outcome: 'bounced' });
    await this.spool.bounce(entry, notice);
  }

  /**
   * A failed append: deferred with backoff (and one delay warning to the sender), or, past
   * the queue lifetime or the over-quota grace time, bounced with a DSN.
   */
  private async failed(entry: QueueEntry, err: unknown, log: Logger): Promise<void> {
    const quota = err instanceof HikyakuError && err.code === 'ERR_QUOTA_EXCEEDED';
    const age = Date.now() - entry.receivedAt;
    const reason = String((err as Error).message ?? err);
    if (!quota) {
      this.limiter.onOverload();
      this.breaker.onFailure();
    }
    if (quota && age >= this.options.quotaGraceMs) {
      log.warn({ err, ageMs: age }, 'mailbox over quota past the grace time; bounced');
      return this.bounce(entry, { rcpt: entry.rcpt, action: 'failed', status: '5.2.2', diagnostic: `552 5.2.2 ${reason}` });
    }
    if (age >= this.options.maxAgeMs) {
      log.error({ err, ageMs: age }, 'not delivered within the queue lifetime; bounced');
      const hours = Math.round(age / 3_600_000);
      return this.bounce(entry, { rcpt: entry.rcpt, action: 'failed', status: '5.4.7', diagnostic: `451 4.4.7 gave up after ${hours} hours; last error: ${reason}` });
    }
    const factor = quota ? QUOTA_RETRY_FACTOR : 1;
    const delay = retryDelay(entry.attempts, this.options.retryBaseMs * factor, this.options.retryMaxMs * factor);
    // The reply each cause has in SMTP: 452 4.2.2 mailbox full, 451 4.3.0 local problem.
    const [code, status] = quota ? [452, '4.2.2'] : [451, '4.3.0'];
    const notice =
      !entry.warned && age >= this.options.delayWarningMs
        ? await dsnNotice(this.spool, this.directory, this.options.hostname, entry, [{ rcpt: entry.rcpt, action: 'delayed', status, diagnostic: `${code} ${status} ${reason}` }], new Date(entry.receivedAt + this.options.maxAgeMs)).catch(() => undefined)
        : undefined;
    if (notice) this.metrics.dsnQueued.inc({ kind: 'delayed' });
    this.metrics.deliveries.inc({ outcome: quota ? 'over_quota' : 'deferred' });
    log.warn({ err, attempts: entry.attempts, retryInMs: delay, warned: Boolean(notice) }, quota ? 'mailbox over quota; delivery deferred' : 'mailbox store failed; delivery deferred');
    try {
      await this.spool.defer(entry, reason, Date.now() + delay, notice);
    } catch (deferErr) {
      // The lease expires and the entry is retried; nothing is lost.
      log.error({ err: deferErr }, 'cannot defer entry; it is retried when its lease expires');
    }
  }
}

function isAutomatedSender(mailFrom: string): boolean {
  return mailFrom === '' || /^(postmaster|mailer-daemon)@/i.test(mailFrom);
}

function groupByDestination(entries: readonly QueueEntry[]): QueueEntry[][] {
  const groups = new Map<string, QueueEntry[]>();
  for (const e of entries) {
    const key = `${e.messageId}\n${e.mailFrom}\n${domainOf(e.rcpt).toLowerCase()}`;
    const g = groups.get(key);
    if (g) g.push(e);
    else groups.set(key, [e]);
  }
  return [...groups.values()];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
