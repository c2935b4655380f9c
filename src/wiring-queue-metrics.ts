/**
 * Wiring of the queue's gauges, beside wiring.ts: depth by state and oldest age on the main
 * thread, the breakdown by tenant on one delivery thread, each paced so that reading a big
 * backlog never takes more than 1% of its thread.
 */
import type { DirectoryCache } from './directory/index.js';
import type { QueueStats, Spool } from './queue/index.js';
import type { Logger, Metrics } from './observability/index.js';

const QUEUE_METRICS_MS = 5000;

/**
 * The spool's statistics, shared by every caller on this thread within `maxAgeMs`: one read
 * of a big queue (~100 ms for a million entries) serves the gauges, the status page (however
 * many people reload it during an outage) and its samples. A failed read is not kept.
 */
export function sharedQueueStats(spool: Pick<Spool, 'stats'>, maxAgeMs: number): () => Promise<QueueStats> {
  let last: { at: number; value: Promise<QueueStats> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > maxAgeMs) {
      const value = spool.stats();
      last = { at: now, value };
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

/**
 * Runs `work` now and again and again, at least `minMs` apart and, when it takes long (a
 * big backlog), `budget` times its own duration apart, so that it never takes more than
 * 1/budget of the thread. Returns the stop.
 */
function paced(work: () => Promise<void>, minMs: number, budget: number, firstAfterMs = 0): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    const started = performance.now();
    await work();
    if (stopped) return;
    timer = setTimeout(() => void run(), Math.max(minMs, (performance.now() - started) * budget));
    timer.unref();
  };
  if (firstAfterMs > 0) {
    timer = setTimeout(() => void run(), firstAfterMs);
    timer.unref();
  } else void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Keeps the queue gauges (depth by state, oldest age) current: every 5 s, within 1% of the thread that also answers SMTP. */
export function followQueueMetrics(stats: () => Promise<QueueStats>, metrics: Metrics, log: Logger): () => void {
  return paced(
    async () => {
      try {
        const s = await stats();
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
 * (metrics.queueBreakdownSeconds) and within 1% of the thread. The first count too waits
 * `minMs`: a delivery thread that starts on a long queue (after an outage) drains first.
 * Mail of domains not hosted here counts for tenant "none".
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
    minMs,
  );
}
