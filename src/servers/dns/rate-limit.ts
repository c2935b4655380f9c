/**
 * Response rate limiting for DNS over UDP (in the manner of BIND's RRL): a UDP source
 * address can be forged, so an authoritative server must not let itself be used to flood
 * a victim with answers. Each client network (/24 for IPv4, /56 for IPv6) has a budget of
 * responses per second; past it, every `slip`-th query gets a truncated answer (a real
 * client retries over TCP, which cannot be forged) and the others none.
 */
export class ResponseRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; over: number }>();

  constructor(
    /** Responses per second per client network; 0: no limit. */
    private readonly perSecond: number,
    private readonly slip = 2,
    /** Networks never limited (loopback by default: the operator's own tools). */
    private readonly exempt: (address: string) => boolean = isLoopback,
  ) {}

  /** What to do with a response to `address`: send it, send it truncated, or drop it. */
  decide(address: string, now = Date.now()): 'send' | 'truncate' | 'drop' {
    if (this.perSecond <= 0 || this.exempt(address)) return 'send';
    const net = networkOf(address);
    let b = this.buckets.get(net);
    if (!b) {
      // Bounded: a flood from many networks forgets the oldest buckets.
      if (this.buckets.size >= 100_000) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.perSecond, at: now, over: 0 };
      this.buckets.set(net, b);
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    b.over++;
    return this.slip > 0 && b.over % this.slip === 0 ? 'truncate' : 'drop';
  }
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

function networkOf(address: string): string {
  if (address.includes(':') && !address.startsWith('::ffff:')) return address.split(':').slice(0, 4).join(':') + '::/56';
  const v4 = address.replace(/^::ffff:/, '');
  return v4.split('.').slice(0, 3).join('.') + '.0/24';
}
