import { HikyakuError, domainOf } from '../mail/index.js';
import { WindowCounts, type SharedCounters } from '../auth/index.js';

export interface SendingLimitOptions {
  /** Messages one account may submit per hour. */
  readonly perAccountPerHour: number;
  /** Messages all accounts of one domain together may submit per hour. */
  readonly perDomainPerHour: number;
  /** Recipients of all messages of one account per hour (one message to 500 addresses counts 500). */
  readonly recipientsPerAccountPerHour: number;
}

const HOUR_MS = 3_600_000;

/**
 * Hourly sending limits of submission, per account and per domain, over a sliding
 * window. With `shared` counters every submission node counts every node's messages
 * (`pull` before checking); without, each node allows the limit by itself.
 */
export class SendingLimits {
  private readonly counts: WindowCounts;

  constructor(
    private readonly options: SendingLimitOptions,
    shared?: SharedCounters,
    onSharedError?: (err: unknown) => void,
  ) {
    this.counts = new WindowCounts(HOUR_MS, shared, undefined, onSharedError);
  }

  /** Brings the other nodes' counts for `account` into memory (within a short deadline); never rejects. */
  async pull(account: string, now = Date.now()): Promise<void> {
    let keys: string[];
    try {
      keys = this.keys(account);
    } catch {
      return; // not an address: check() says so
    }
    await this.counts.pull(keys, now);
  }

  private keys(account: string): string[] {
    return [`send:${account}`, `send:@${domainOf(account)}`, `send-rcpt:${account}`];
  }

  /** Throws ERR_SEND_RATE if `account` (or its domain) may not send another message now. */
  check(account: string, now = Date.now()): void {
    const [own, domain] = this.keys(account);
    if (this.counts.count(own!, now) >= this.options.perAccountPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${account} may send ${this.options.perAccountPerHour} messages per hour`);
    }
    if (this.counts.count(domain!, now) >= this.options.perDomainPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${domainOf(account)} may send ${this.options.perDomainPerHour} messages per hour`);
    }
  }

  /** Throws ERR_SEND_RATE if one more recipient (after `pending` already accepted in this transaction) is too many. */
  checkRecipient(account: string, pending: number, now = Date.now()): void {
    if (this.counts.count(this.keys(account)[2]!, now) + pending >= this.options.recipientsPerAccountPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${account} may send to ${this.options.recipientsPerAccountPerHour} recipients per hour`);
    }
  }

  /** Counts one accepted message with `recipients` recipients. */
  record(account: string, recipients: number, now = Date.now()): void {
    const [own, domain, rcpt] = this.keys(account);
    this.counts.add(own!, 1, now);
    this.counts.add(domain!, 1, now);
    this.counts.add(rcpt!, recipients, now);
  }
}
