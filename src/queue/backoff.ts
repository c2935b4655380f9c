/**
 * Delay before the next attempt: doubling from `baseMs`, capped at `maxMs`, with full
 * jitter between 50% and 150% so that a backlog does not retry in lockstep.
 */
export function retryDelay(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.min(maxMs, Math.round(exp * (0.5 + random())));
}
