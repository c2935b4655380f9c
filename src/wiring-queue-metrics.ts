/**
 * Wiring of the queue's gauges, beside wiring.ts: depth by state and oldest age on the main
 * thread, the breakdown by tenant on one delivery thread, each paced so that reading a big
 * backlog never takes more than 1% of its thread.
 */
import type { DirectoryCache } from './directory/index.js';
import type { Spool } from './queue/index.js';
import type { Logger, Metrics } from './observability/index.js';

const QUEUE_METRICS_MS = 5000;

/**
 * Runs `work` now and again and again, at least `minMs` apart and, when it takes long (a
 * big backlog), `budget` times its own duration apart, so that it never takes more than
 * 1/budget of the thread. Returns the stop.
 */
function paced(work: () => Promise<void>, minMs: number, budget: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    const started = performance.now();
    await work();
    if (stopped) return;
    timer = setTimeout(() => void run(), Math.max(minMs, (performance.now() - started) * budget));
    timer.unref();
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Keeps the queue gauges (depth by state, oldest age) current: every 5 s, within 1% of the thread that also answers SMTP. */
export function followQueueMetrics(spool: Spool, metrics: Metrics, log: Logger): () => void {
  return paced(
    async () => {
      try {
        const s = await spool.stats();
        for (const [state, n] of Object.entries(s.byState)) metrics.queueDepth.set({ state }, n);
        metrics.queueOldest.set(s.oldestSeconds);
      } catch (err) {
        log.warn({ err }, 'cannot read queue statistics');
      }
    },
    QUEUE_METRICS_MS,
    100,
  );
}

/**
 * Keeps the queue's breakdown by route, state and tenant current, on one delivery thread:
 * it reads the whole queue (about 2 s for a million entries), so at most every `minMs`
 * (metrics.queueBreakdownSeconds) and within 1% of the thread. Mail of domains not hosted
 * here counts for tenant "none".
 */
export function followQueueBreakdown(spool: Spool, directory: Pick<DirectoryCache, 'tenantOf'>, metrics: Metrics, log: Logger, minMs: number): () => void {
  return paced(
    async () => {
      try {
        const counts = new Map<string, { route: string; state: string; tenant: string; n: number }>();
        for (const r of await spool.ownerCounts()) {
          const tenant = directory.tenantOf(r.domain)?.name ?? 'none';
          const key = `${r.route} ${r.state} ${tenant}`;
          const c = counts.get(key) ?? { route: r.route, state: r.state, tenant, n: 0 };
          c.n += r.count;
          counts.set(key, c);
        }
        metrics.queueByTenant.reset();
        for (const c of counts.values()) metrics.queueByTenant.set({ route: c.route, state: c.state, tenant: c.tenant }, c.n);
      } catch (err) {
        log.warn({ err }, 'cannot count the queue by tenant');
      }
    },
    minMs,
    100,
  );
}
