import { HikyakuError, domainOf } from '../mail/index.js';

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
 * window. Counted in this process: several submission nodes each allow the limit.
 */
export class SendingLimits {
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly options: SendingLimitOptions) {}

  /** Throws ERR_SEND_RATE if `account` (or its domain) may not send another message now. */
  check(account: string, now = Date.now()): void {
    if (this.count(account, now) >= this.options.perAccountPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${account} may send ${this.options.perAccountPerHour} messages per hour`);
    }
    const domain = '@' + domainOf(account);
    if (this.count(domain, now) >= this.options.perDomainPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${domain.slice(1)} may send ${this.options.perDomainPerHour} messages per hour`);
    }
  }

  /** Throws ERR_SEND_RATE if one more recipient (after `pending` already accepted in this transaction) is too many. */
  checkRecipient(account: string, pending: number, now = Date.now()): void {
    if (this.count('rcpt:' + account, now) + pending >= this.options.recipientsPerAccountPerHour) {
      throw new HikyakuError('ERR_SEND_RATE', `${account} may send to ${this.options.recipientsPerAccountPerHour} recipients per hour`);
    }
  }

  /** Counts one accepted message with `recipients` recipients. */
  record(account: string, recipients: number, now = Date.now()): void {
    for (const key of [account, '@' + domainOf(account)]) this.add(key, now, 1);
    this.add('rcpt:' + account, now, recipients);
  }

  private add(key: string, now: number, n: number): void {
    const list = this.sent.get(key) ?? [];
    for (let i = 0; i < n; i++) list.push(now);
    this.sent.set(key, list);
  }

  private count(key: string, now: number): number {
    const list = this.sent.get(key);
    if (!list) return 0;
    let drop = 0;
    while (drop < list.length && list[drop]! <= now - HOUR_MS) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) this.sent.delete(key);
    return list.length;
  }
}
