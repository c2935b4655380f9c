const SLOWEST = 5;

/** What a load run counts: answers by code (an SMTP reply code, a POP3 status with its response code), failures by reason, and answer times (ms). */
export class LoadStats {
  readonly byCode = new Map<string, number>();
  readonly errors = new Map<string, number>();
  private readonly times: number[] = [];
  private recent: number[] = [];
  /** The slowest answers, slowest first: what was asked (such as "RETR 1048576 bytes") and when (ms since the epoch). */
  readonly slowest: { what: string; ms: number; at: number }[] = [];
  attempted = 0;
  bytes = 0;

  /** An answer, in `ms`; `bytes` count when it was a success; `what` names what was asked, for the slowest. */
  answered(code: number | string, ms: number, bytes: number, success: boolean, what?: string): void {
    this.attempted++;
    if (what !== undefined && (this.slowest.length < SLOWEST || ms > this.slowest.at(-1)!.ms)) {
      this.slowest.push({ what, ms, at: Date.now() });
      this.slowest.sort((a, b) => b.ms - a.ms);
      this.slowest.length = Math.min(this.slowest.length, SLOWEST);
    }
    this.byCode.set(String(code), (this.byCode.get(String(code)) ?? 0) + 1);
    this.times.push(ms);
    this.recent.push(ms);
    if (success) this.bytes += bytes;
  }

  failed(reason: string): void {
    this.attempted++;
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  count(code: number | string): number {
    return this.byCode.get(String(code)) ?? 0;
  }

  /** Percentiles of every answer so far (or, with `sinceLast`, of those since the last such call). */
  latency(sinceLast = false): { p50: number; p90: number; p99: number; max: number } {
    const all = sinceLast ? this.recent : this.times;
    if (sinceLast) this.recent = [];
    const sorted = [...all].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  }
}
