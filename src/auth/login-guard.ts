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
 * is slowed by the failure delay. In memory: every protocol node keeps its own counts.
 */
export class LoginGuard {
  private readonly byIp = new Map<string, number[]>();
  private readonly byAccount = new Map<string, number[]>();
  private readonly pair = (ip: string, account: string) => `${account}\n${ip}`;

  constructor(private readonly options: LoginGuardOptions) {}

  /** Milliseconds until an attempt from `ip` for `account` may be made; 0 when it may now. */
  blockedFor(ip: string, account: string, now = Date.now()): number {
    const wait = (map: Map<string, number[]>, key: string, max: number) => {
      const times = this.recent(map, key, now);
      return times.length >= max ? times[times.length - max]! + this.options.windowMs - now : 0;
    };
    return Math.max(wait(this.byIp, ip, this.options.maxFailuresPerIp), wait(this.byAccount, this.pair(ip, account), this.options.maxFailuresPerAccount));
  }

  failed(ip: string, account: string, now = Date.now()): void {
    for (const [map, key] of [[this.byIp, ip], [this.byAccount, this.pair(ip, account)]] as const) {
      const times = this.recent(map, key, now);
      times.push(now);
      map.set(key, times);
    }
    if (this.byIp.size + this.byAccount.size > 100_000) this.prune(now);
  }

  succeeded(ip: string, account: string): void {
    this.byAccount.delete(this.pair(ip, account));
  }

  private recent(map: Map<string, number[]>, key: string, now: number): number[] {
    const times = (map.get(key) ?? []).filter((t) => t > now - this.options.windowMs);
    if (times.length === 0) map.delete(key);
    return times;
  }

  private prune(now: number): void {
    for (const map of [this.byIp, this.byAccount]) for (const key of [...map.keys()]) this.recent(map, key, now);
  }
}
