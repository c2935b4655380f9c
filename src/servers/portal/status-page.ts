import { withDeadline } from '../../mailstore/index.js';
import { isPublicNotice, type ActivityRates, type BacklogSample, type ServiceNotice, type ServiceSignals, type ServiceState } from '../../notices/index.js';
import type { PortalDeps } from './deps.js';

export interface StatusThresholds {
  /** The oldest undelivered mail older than this makes sending "degraded"… */
  readonly delayedSeconds: number;
  /** …and older than this, "disrupted". */
  readonly disruptedSeconds: number;
  /** A mailbox store slower than this to answer makes reading mail "degraded"… */
  readonly slowStoreMs: number;
  /** …as does a larger share of POP3 answers that were -ERR [SYS/TEMP] (percent). */
  readonly readerErrorPercent: number;
  /** A larger share of deliveries into mailboxes deferred than this makes sending "degraded" (percent). */
  readonly deliveryFailurePercent: number;
  /** Each store check's deadline: a store that answers later counts as disrupted. */
  readonly checkTimeoutMs: number;
}

export interface StatusReport extends ServiceSignals {
  readonly open: ServiceNotice[];
  readonly history: ServiceNotice[];
  /** The backlog over the last day and the last week, oldest first. */
  readonly day: BacklogSample[];
  readonly week: BacklogSample[];
}

/** How long `work` took, or null when it failed or missed the deadline. */
const timed = async (work: Promise<unknown>, ms: number): Promise<number | null> => {
  const started = performance.now();
  try {
    await withDeadline(work, ms);
    return performance.now() - started;
  } catch {
    return null;
  }
};

/**
 * The state of each service from real signals: the spool and mailbox store answering (and
 * how fast), the age of the oldest waiting mail, and `rates` (deliveries deferred, readers'
 * temporary errors) over the last interval.
 */
export async function serviceSignals(deps: Pick<PortalDeps, 'spool' | 'mailStore'>, t: StatusThresholds, rates: ActivityRates): Promise<ServiceSignals> {
  const [spoolMs, storeMs, stats] = await Promise.all([
    timed(deps.spool.ping(), t.checkTimeoutMs),
    timed(deps.mailStore.ping(), t.checkTimeoutMs),
    withDeadline(deps.spool.stats(), t.checkTimeoutMs).catch(() => null),
  ]);
  const queue = stats && { waiting: stats.byState.queued + stats.byState.active + stats.byState.deferred, deferred: stats.byState.deferred, oldestSeconds: stats.oldestSeconds };
  const age = queue?.oldestSeconds ?? 0;
  const failing = (rates.deliveryFailurePercent ?? 0) > t.deliveryFailurePercent;
  const sending: ServiceState = !queue ? 'disrupted' : age > t.disruptedSeconds ? 'disrupted' : age > t.delayedSeconds || failing ? 'degraded' : 'ok';
  const reading: ServiceState = storeMs === null ? 'disrupted' : storeMs > t.slowStoreMs || (rates.readerErrorPercent ?? 0) > t.readerErrorPercent ? 'degraded' : 'ok';
  return {
    at: Date.now(),
    services: {
      receiving: { state: spoolMs !== null ? 'ok' : 'disrupted', detail: spoolMs !== null ? 'spool' : 'spool-down' },
      sending: { state: sending, detail: !queue ? 'queue-unknown' : failing ? 'deliveries-deferred' : 'queue' },
      mailboxes: { state: reading, detail: storeMs === null ? 'store-down' : reading === 'ok' ? 'store' : 'store-slow' },
      'member-site': { state: 'ok', detail: 'portal' },
    },
    queue,
    storeMs,
    rates,
  };
}

/** The status page: the signals, the notices of the last 30 days and the backlog's history. */
export async function statusReport(deps: PortalDeps, t: StatusThresholds, rates: ActivityRates): Promise<StatusReport> {
  const now0 = Date.now();
  const [signals, notices, week] = await Promise.all([
    serviceSignals(deps, t, rates),
    deps.notices.listNotices({ since: now0 - 30 * 86_400_000, limit: 100 }),
    deps.backlog.samples(now0 - 7 * 86_400_000).catch(() => []),
  ]);
  const now = signals.at;
  const open = notices.filter((n) => isPublicNotice(n) && n.closedAt === null && (n.endsAt === null || n.endsAt > now));
  return {
    ...signals,
    open,
    history: notices.filter((n) => isPublicNotice(n) && !open.includes(n)),
    day: week.filter((x) => x.at >= now - 86_400_000),
    week: hourly(week),
  };
}


/** The week's samples as one per hour, each the hour's worst (a plot of a week shows peaks, not averages). */
function hourly(samples: readonly BacklogSample[]): BacklogSample[] {
  const hours = new Map<number, BacklogSample>();
  for (const x of samples) {
    const h = Math.floor(x.at / 3_600_000) * 3_600_000;
    const seen = hours.get(h);
    const latency = x.latencySeconds === null ? (seen?.latencySeconds ?? null) : Math.max(seen?.latencySeconds ?? 0, x.latencySeconds);
    hours.set(h, { at: h, waiting: Math.max(seen?.waiting ?? 0, x.waiting), deferred: Math.max(seen?.deferred ?? 0, x.deferred), oldestSeconds: Math.max(seen?.oldestSeconds ?? 0, x.oldestSeconds), latencySeconds: latency });
  }
  return [...hours.values()];
}
