/**
 * Member-site logins for `hikyaku load portal`: each account, every `everyMs` (spread over
 * the interval), logs in (POST /api/v1/session), asks who it is with the session cookie
 * (GET, as the page does next) and logs out (DELETE with its CSRF token). Each request's
 * answer time is counted, and answers by HTTP status.
 */
import { LoadStats } from './stats.js';
import { everyUser } from './schedule.js';

export interface PortalLoadOptions {
  /** http://HOST:PORT of the portal. */
  readonly base: string;
  readonly users: readonly string[];
  readonly password: string;
  readonly everyMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  /** Counts into these stats (a rehearsal reads them as it goes); new ones otherwise. */
  readonly stats?: LoadStats;
}

export interface PortalLoadSummary {
  readonly scenario: 'portal';
  readonly target: string;
  readonly seconds: number;
  readonly logins: number;
  readonly loggedIn: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
}


export async function runPortalLoad(o: PortalLoadOptions, onSecond?: (stats: LoadStats, seconds: number) => void): Promise<PortalLoadSummary> {
  const stats = o.stats ?? new LoadStats();
  const started = performance.now();
  const deadline = started + o.durationMs;
  let logins = 0;
  let loggedIn = 0;
  const ticker = onSecond ? setInterval(() => onSecond(stats, (performance.now() - started) / 1000), 1000) : undefined;

  const request = async (method: string, headers: Record<string, string>, body?: string) => {
    const t0 = performance.now();
    const r = await fetch(`${o.base}/api/v1/session`, { method, headers, body, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'manual' });
    const text = await r.text();
    stats.answered(r.status, performance.now() - t0, 0, r.ok, `${method} /api/v1/session`);
    return { r, text };
  };

  const login = async (user: string) => {
    logins++;
    try {
      const { r, text } = await request('POST', { 'content-type': 'application/json' }, JSON.stringify({ username: user, password: o.password }));
      if (!r.ok) return;
      const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const csrf = (JSON.parse(text) as { csrf?: string }).csrf ?? '';
      if (!(await request('GET', { cookie })).r.ok) return;
      loggedIn++;
      await request('DELETE', { cookie, 'x-csrf-token': csrf });
    } catch (err) {
      stats.failed((err as Error).name === 'TimeoutError' ? `no answer in ${o.timeoutMs} ms` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
    }
  };

  try {
    await everyUser(o.users, o.everyMs, deadline, login);
  } finally {
    clearInterval(ticker);
  }
  return {
    scenario: 'portal',
    target: o.base,
    seconds: (performance.now() - started) / 1000,
    logins,
    loggedIn,
    requests: [...stats.byCode.values()].reduce((a, b) => a + b, 0),
    byStatus: Object.fromEntries(stats.byCode),
    errors: Object.fromEntries(stats.errors),
    latencyMs: stats.latency(),
  };
}
