/**
 * Adaptive concurrency (AIMD, as in TCP congestion control): the limit grows by one for
 * each window of fast successes and halves on an error or a slow answer, so an
 * overloaded store is given room to recover (DESIGN.md principle 3).
 */
export class AdaptiveLimiter {
  private successes = 0;
  limit: number;

  constructor(
    private readonly max: number,
    private readonly slowMs: number,
    initial = Math.min(4, max),
  ) {
    this.limit = initial;
  }

  onSuccess(latencyMs: number): void {
    if (latencyMs > this.slowMs) return this.onOverload();
    if (++this.successes >= this.limit) {
      this.successes = 0;
      this.limit = Math.min(this.max, this.limit + 1);
    }
  }

  onOverload(): void {
    this.successes = 0;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
  }
}

/**
 * Circuit breaker: after `threshold` consecutive failures it opens and no work is
 * started until `cooldown` passes; then one probe goes through (half-open). The
 * cooldown doubles on each failed probe, up to `maxCooldownMs`.
 *
 * A probe is settled by exactly one of onSuccess, onFailure or cancelProbe (the attempt
 * never reached the store: nothing was due, or the entry needed no mailbox). A probe
 * that is never settled expires after `probeTimeoutMs`, so a forgotten one cannot keep
 * the breaker shut for good.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private cooldownMs: number;
  private probeSince: number | undefined;
  private probeId = 0;

  constructor(
    private readonly threshold: number,
    private readonly baseCooldownMs: number,
    private readonly maxCooldownMs: number,
    private readonly probeTimeoutMs: number,
  ) {
    this.cooldownMs = baseCooldownMs;
  }

  get isOpen(): boolean {
    return this.failures >= this.threshold;
  }

  private probing(now: number): boolean {
    if (this.probeSince !== undefined && now - this.probeSince >= this.probeTimeoutMs) this.probeSince = undefined;
    return this.probeSince !== undefined;
  }

  /** Milliseconds until work may start; 0 when it may start now. */
  waitMs(now = Date.now()): number {
    if (!this.isOpen) return 0;
    if (this.probing(now)) return Math.min(this.cooldownMs, this.probeSince! + this.probeTimeoutMs - now);
    return Math.max(0, this.openUntil - now);
  }

  /**
   * How many attempts may start now: unlimited when closed, one probe when half-open.
   * `probe` (non-zero) names the probe when the one attempt is it; its caller settles it.
   */
  allowance(now = Date.now()): { n: number; probe: number } {
    if (!this.isOpen) return { n: Infinity, probe: 0 };
    if (this.probing(now) || now < this.openUntil) return { n: 0, probe: 0 };
    this.probeSince = now;
    return { n: 1, probe: ++this.probeId };
  }

  /** Probe `id` did not reach the store (if still unsettled): the next attempt may probe at once. */
  cancelProbe(id: number): void {
    if (id === this.probeId) this.probeSince = undefined;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probeSince = undefined;
    this.cooldownMs = this.baseCooldownMs;
  }

  onFailure(now = Date.now()): void {
    this.failures++;
    if (this.probeSince !== undefined) this.cooldownMs = Math.min(this.maxCooldownMs, this.cooldownMs * 2);
    this.probeSince = undefined;
    if (this.isOpen) this.openUntil = now + this.cooldownMs;
  }
}
