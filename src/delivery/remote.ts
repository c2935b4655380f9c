import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { Readable } from 'node:stream';
import { domainOf, parseAddress } from '../mail/index.js';
import { headerValues, parseHeaderFields } from '../message/index.js';
import type { RecipientDirectory } from '../directory/index.js';
import { retryDelay, type QueueEntry, type Spool } from '../queue/index.js';
import { crashPoint, type Logger, type Metrics } from '../observability/index.js';
import { dsnNotice, originalHeaders } from './bounces.js';
import type { RcptResult, SmtpRelay } from './relay.js';
import type { LeaseKeeper } from './lease-keeper.js';

export interface RemoteDeliveryOptions {
  readonly owner: string;
  readonly hostname: string;
  readonly leaseMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Past this age a message still not relayed is bounced (Postfix's maximal_queue_lifetime). */
  readonly maxAgeMs: number;
  /** Past this age, a still-deferred message earns its sender one delay warning. */
  readonly delayWarningMs: number;
}

/**
 * The remote side of delivery: takes a leased remote entry and its siblings (same message,
 * same sender, same domain), signs the message with the sender domain's DKIM key, relays
 * it in one transaction, and settles each entry: done, deferred with backoff (and one
 * delay warning), or bounced with a DSN to the sender — each together with its DSN in
 * one spool commit. A crash in between repeats the transaction at worst.
 */
export class RemoteDelivery {
  constructor(
    private readonly spool: Spool,
    private readonly directory: RecipientDirectory,
    private readonly relay: SmtpRelay,
    private readonly options: RemoteDeliveryOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Says goodbye to the sessions relay keeps open for reuse. */
  close(): void {
    this.relay.close();
  }

  /** Relays `batch` (leased entries of one message, sender and domain) with any due siblings not yet leased. */
  async deliver(batch: readonly QueueEntry[], keeper: LeaseKeeper): Promise<void> {
    const entry = batch[0]!;
    const domain = domainOf(entry.rcpt).toLowerCase();
    const siblings = await this.spool.leaseSiblings(entry, this.options.owner, this.options.leaseMs, domain);
    keeper.hold(siblings);
    try {
      await this.relayGroup([...batch, ...siblings]);
    } finally {
      keeper.drop(siblings);
    }
  }

  private async relayGroup(group: readonly QueueEntry[]): Promise<void> {
    const entry = group[0]!;
    const domain = domainOf(entry.rcpt).toLowerCase();
    const log = this.log.child({ mid: entry.messageId, domain, qids: group.map((e) => e.id) });
    const signature = await this.sign(entry, log);
    const started = Date.now();
    const results = await this.relay.send({
      domain,
      mailFrom: entry.mailFrom,
      rcpts: group.map((e) => e.rcpt),
      size: entry.size + signature.length,
      openMessage: () => Readable.from(this.withPrefix(signature, entry.messageId)),
    });
    crashPoint('after-relay');
    this.metrics.relaySeconds.observe((Date.now() - started) / 1000);
    const byRcpt = new Map(results.map((r) => [r.rcpt, r]));
    const bounced: [QueueEntry, RcptResult][] = [];
    for (const e of group) {
      const r = byRcpt.get(e.rcpt)!;
      if (r.status === 'sent') {
        this.metrics.relayed.inc({ outcome: 'sent' });
        this.metrics.deliveryLatency.observe({ route: 'remote' }, Math.max(0, Date.now() - e.receivedAt) / 1000);
        log.info({ rcpt: e.rcpt, reply: r.reply }, 'relayed');
        if (!(await this.spool.complete(e))) log.warn({ qid: e.id }, 'lease lost after relaying; the remote may get the message twice');
      } else if (r.status === 'permanent' || Date.now() - e.receivedAt >= this.options.maxAgeMs) {
        bounced.push([e, r.status === 'permanent' ? r : { ...r, enhanced: '4.4.7', reply: `gave up after ${Math.round((Date.now() - e.receivedAt) / 3_600_000)} hours; last error: ${r.reply}` }]);
      } else {
        await this.defer(e, r, log);
      }
    }
    if (bounced.length > 0) await this.bounce(bounced, log);
  }

  private async *withPrefix(prefix: Buffer, messageId: string): AsyncGenerator<Buffer> {
    if (prefix.length > 0) yield prefix;
    yield* this.spool.openBody(messageId) as AsyncIterable<Buffer>;
  }

  /**
   * A DKIM-Signature (RFC 6376) by the domain of the From: address, if that domain is hosted
   * and has a key; otherwise nothing (forwarded mail from elsewhere is not ours to sign).
   */
  private async sign(entry: QueueEntry, log: Logger): Promise<Buffer> {
    const from = headerValues(parseHeaderFields(await originalHeaders(this.spool, entry.messageId)), 'From')[0];
    const address = from ? /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from : undefined;
    let domain: string;
    try {
      domain = address ? parseAddress(address.trim()).domain : '';
    } catch {
      return Buffer.alloc(0);
    }
    const key = this.directory.dkimKey(domain);
    if (!key) return Buffer.alloc(0);
    const { signatures, errors } = (await dkimSign(this.spool.openBody(entry.messageId), {
      canonicalization: 'relaxed/relaxed',
      signatureData: [{ signingDomain: domain, selector: key.selector, privateKey: key.privateKey, algorithm: key.algorithm }],
    } as never)) as { signatures: string; errors?: unknown[] };
    // Without a signature mailauth still returns a bare CRLF, which must never go first.
    if (!/^DKIM-Signature:/i.test(signatures ?? '')) {
      log.warn({ errors, domain }, 'DKIM signing failed; the message is sent unsigned');
      return Buffer.alloc(0);
    }
    return Buffer.from(signatures.endsWith('\r\n') ? signatures : signatures + '\r\n');
  }

  private async defer(entry: QueueEntry, r: RcptResult, log: Logger): Promise<void> {
    const delay = retryDelay(entry.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
    const age = Date.now() - entry.receivedAt;
    const warn = !entry.warned && age >= this.options.delayWarningMs;
    const notice = warn
      ? await dsnNotice(
          this.spool,
          this.directory,
          this.options.hostname,
          entry,
          [{ rcpt: entry.rcpt, action: 'delayed', status: r.enhanced, diagnostic: r.reply, remoteMta: r.remoteMta }],
          new Date(entry.receivedAt + this.options.maxAgeMs),
        )
      : undefined;
    if (notice) this.metrics.dsnQueued.inc({ kind: 'delayed' });
    this.metrics.relayed.inc({ outcome: 'deferred' });
    log.info({ rcpt: entry.rcpt, reply: r.reply, attempts: entry.attempts, retryInMs: delay, warned: Boolean(notice) }, 'relay deferred');
    await this.spool.defer(entry, r.reply, Date.now() + delay, notice);
  }

  /**
   * One DSN for all bounced recipients of the group, queued with the first of them whose
   * lease still holds (a lost lease refuses the settle step, and its notice with it).
   */
  private async bounce(bounced: [QueueEntry, RcptResult][], log: Logger): Promise<void> {
    const [first] = bounced[0]!;
    const notice = await dsnNotice(
      this.spool,
      this.directory,
      this.options.hostname,
      first,
      bounced.map(([e, r]) => ({ rcpt: e.rcpt, action: 'failed' as const, status: r.enhanced.startsWith('4') ? '5' + r.enhanced.slice(1) : r.enhanced, diagnostic: r.reply, remoteMta: r.remoteMta })),
    );
    if (notice) this.metrics.dsnQueued.inc({ kind: 'failed' });
    let pending = notice;
    for (const [e, r] of bounced) {
      if (!(await this.spool.bounce(e, pending))) {
        log.warn({ qid: e.id, rcpt: e.rcpt }, 'lease lost before the bounce; the entry is retried by its new holder');
        continue;
      }
      pending = undefined;
      this.metrics.relayed.inc({ outcome: 'bounced' });
      log.warn({ rcpt: e.rcpt, reply: r.reply, dsn: Boolean(notice) }, e.mailFrom === '' ? 'relay failed; null sender, so no DSN' : 'relay failed; DSN queued to the sender');
    }
  }
}
