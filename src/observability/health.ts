/** One thing a node needs to serve: a store, the directory cache. */
export interface HealthCheck {
  readonly name: string;
  /** Where the thing is (the embedded files, or a database's host, port and name): told in the report. */
  readonly where?: string;
  /** Resolves when the thing answers; rejects (or throws) with the reason when it does not. */
  readonly check: () => Promise<void>;
}

export interface CheckResult {
  readonly name: string;
  readonly where?: string;
  readonly ok: boolean;
  readonly ms: number;
  /** Why not, in a sentence (absent when ok). */
  readonly error?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

/**
 * Runs every check at once, each with `timeoutMs` (DESIGN.md principle 4: a probe answers
 * in bounded time, also when a store hangs). Ready when all of them answered in time.
 */
export async function readiness(checks: readonly HealthCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map((c) => runCheck(c, timeoutMs)));
  return { ready: results.every((r) => r.ok), checks: results };
}

async function runCheck(c: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(c.check), late]);
    return { name: c.name, ...(c.where ? { where: c.where } : {}), ok: true, ms: elapsed(started) };
  } catch (err) {
    return { name: c.name, ...(c.where ? { where: c.where } : {}), ok: false, ms: elapsed(started), error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (since: number) => Math.round((performance.now() - since) * 10) / 10;
