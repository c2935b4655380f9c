/**
 * Crash points: named windows where a real SIGKILL proves the durability promises (a crash
 * between the spool commit and the 250, between a mailbox append and the queue commit, ...).
 * Off unless `fault.crashAt` arms some, for rehearsals and the fault campaign; announced at
 * start. Like FreeBSD's fail points this is process-wide state, armed once by the wiring of
 * each thread: threading an object through every layer for a staging-only switch would
 * put it into every signature.
 */
export const CRASH_POINTS = ['data', 'spool-commit', 'after-append', 'expunge', 'after-relay'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

let armed: { points: ReadonlySet<CrashPoint>; probability: number } | undefined;

/** Reads `point[,point...]:probability` (probability 0 < p ≤ 1); '' disarms. Throws a sentence on a bad value. */
export function parseCrashPoints(text: string): { points: CrashPoint[]; probability: number } | undefined {
  if (text.trim() === '') return undefined;
  const m = /^([a-z,-]+):(0?\.\d+|1(\.0*)?)$/.exec(text.trim());
  const points = m ? m[1]!.split(',') : [];
  if (!m || Number(m[2]) <= 0 || points.some((p) => !CRASH_POINTS.includes(p as CrashPoint))) {
    throw new Error(`must be point[,point...]:probability with points from ${CRASH_POINTS.join(', ')} and 0 < probability <= 1, got ${JSON.stringify(text)}`);
  }
  return { points: points as CrashPoint[], probability: Number(m[2]) };
}

export function armCrashPoints(text: string): void {
  const parsed = parseCrashPoints(text);
  armed = parsed && { points: new Set(parsed.points), probability: parsed.probability };
}

/** Kills this process with SIGKILL here, when `point` is armed (with its probability). */
export function crashPoint(point: CrashPoint): void {
  if (armed?.points.has(point) && Math.random() < armed.probability) process.kill(process.pid, 'SIGKILL');
}
