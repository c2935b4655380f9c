import { WindowCounts, type SharedCounters } from './window-counts.js';

export interface LoginGuardOptions {
  /** Failed logins from one IP address within the window before it is refused. */
  readonly maxFailuresPerIp: number;
  /** Failed logins for one account from one address within the window before that address is refused for it. */
  readonly maxFailuresPerAccount: number;
  readonly windowMs: number;
}

/**
 * Counts failed logins per client address, and per account from each address, in a
 * sliding window. Once a count reaches its limit, further attempts from that address are
 * refused until old failures age out. Never per account alone: then anyone could lock a
 * user out of their own mailbox by guessing wrong on purpose. Guessing from many addresses
 * is slowed by the failure delay. With `shared` counters every node counts every node's
 * failures (`pull` before asking); without, each node counts its own.
 */
export class LoginGuard {
  private readonly counts: WindowCounts;
  private readonly ipKey = (ip: string) => `login-ip:${ip}`;
  private readonly pairKey = (ip: string, account: string) => `login-pair:${account}\n${ip}`;

  constructor(
    private readonly options: LoginGuardOptions,
    shared?: SharedCounters,
    onSharedError?: (err: unknown) => void,
  ) {
    this.counts = new WindowCounts(options.windowMs, shared, undefined, onSharedError);
  }

  /** Brings the other nodes' counts for this attempt into memory (within a short deadline). */
  pull(ip: string, account: string, now = Date.now()): Promise<void> {
    return this.counts.pull([this.ipKey(ip), this.pairKey(ip, account)], now);
  }

  /** Milliseconds until an attempt from `ip` for `account` may be made; 0 when it may now. */
  blockedFor(ip: string, account: string, now = Date.now()): number {
    return Math.max(
      this.counts.waitFor(this.ipKey(ip), this.options.maxFailuresPerIp, now),
      this.counts.waitFor(this.pairKey(ip, account), this.options.maxFailuresPerAccount, now),
    );
  }

  failed(ip: string, account: string, now = Date.now()): void {
    this.counts.add(this.ipKey(ip), 1, now);
    this.counts.add(this.pairKey(ip, account), 1, now);
  }

  succeeded(ip: string, account: string): void {
    this.counts.forget(this.pairKey(ip, account));
  }
}
