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
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private cooldownMs: number;
  private probing = false;

  constructor(
    private readonly threshold: number,
    private readonly baseCooldownMs: number,
    private readonly maxCooldownMs: number,
  ) {
    this.cooldownMs = baseCooldownMs;
  }

  get isOpen(): boolean {
    return this.failures >= this.threshold;
  }

  /** Milliseconds until work may start; 0 when it may start now. */
  waitMs(now = Date.now()): number {
    if (!this.isOpen) return 0;
    if (this.probing) return this.cooldownMs;
    return Math.max(0, this.openUntil - now);
  }

  /** How many attempts may start now: unlimited when closed, one probe when half-open. */
  allowance(now = Date.now()): number {
    if (!this.isOpen) return Infinity;
    if (this.probing || now < this.openUntil) return 0;
    this.probing = true;
    return 1;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probing = false;
    this.cooldownMs = this.baseCooldownMs;
  }

  onFailure(now = Date.now()): void {
    this.failures++;
    if (this.probing) this.cooldownMs = Math.min(this.maxCooldownMs, this.cooldownMs * 2);
    this.probing = false;
    if (this.isOpen) this.openUntil = now + this.cooldownMs;
  }
}
