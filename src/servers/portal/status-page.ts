import { withDeadline } from '../../mailstore/index.js';
import type { BacklogSample, ServiceName, ServiceNotice } from '../../notices/index.js';
import type { PortalDeps } from './deps.js';

export type ServiceState = 'ok' | 'degraded' | 'disrupted';

export interface StatusThresholds {
  /** The oldest undelivered mail older than this makes sending "degraded"… */
  readonly delayedSeconds: number;
  /** …and older than this, "disrupted". */
  readonly disruptedSeconds: number;
  /** Each store check's deadline: a store that answers later counts as disrupted. */
  readonly checkTimeoutMs: number;
}

export interface StatusReport {
  readonly at: number;
  readonly services: Record<ServiceName, { state: ServiceState; detail: string }>;
  readonly queue: { waiting: number; deferred: number; oldestSeconds: number } | null;
  readonly open: ServiceNotice[];
  readonly history: ServiceNotice[];
  /** The backlog over the last day and the last week, oldest first. */
  readonly day: BacklogSample[];
  readonly week: BacklogSample[];
}

const answers = (work: Promise<unknown>, ms: number) =>
  withDeadline(work, ms).then(
    () => true,
    () => false,
  );

/** The state of each service from real signals: the spool and mailbox store answering, the age of the oldest waiting mail. */
export async function statusReport(deps: PortalDeps, t: StatusThresholds): Promise<StatusReport> {
  const now0 = Date.now();
  const [spoolOk, storeOk, stats, notices, week] = await Promise.all([
    answers(deps.spool.ping(), t.checkTimeoutMs),
    answers(deps.mailStore.ping(), t.checkTimeoutMs),
    withDeadline(deps.spool.stats(), t.checkTimeoutMs).catch(() => null),
    deps.notices.listNotices({ since: now0 - 30 * 86_400_000, limit: 100 }),
    deps.backlog.samples(now0 - 7 * 86_400_000).catch(() => []),
  ]);
  const queue = stats && { waiting: stats.byState.queued + stats.byState.active + stats.byState.deferred, deferred: stats.byState.deferred, oldestSeconds: stats.oldestSeconds };
  const age = queue?.oldestSeconds ?? 0;
  const sending: ServiceState = !queue ? 'disrupted' : age > t.disruptedSeconds ? 'disrupted' : age > t.delayedSeconds ? 'degraded' : 'ok';
  const now = Date.now();
  const open = notices.filter((n) => n.closedAt === null && n.tenants.length === 0 && (n.endsAt === null || n.endsAt > now));
  return {
    at: now,
    services: {
      receiving: { state: spoolOk ? 'ok' : 'disrupted', detail: spoolOk ? 'spool' : 'spool-down' },
      sending: { state: sending, detail: queue ? 'queue' : 'queue-unknown' },
      mailboxes: { state: storeOk ? 'ok' : 'disrupted', detail: storeOk ? 'store' : 'store-down' },
      'member-site': { state: 'ok', detail: 'portal' },
    },
    queue,
    open,
    history: notices.filter((n) => n.tenants.length === 0 && !open.includes(n)),
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
    hours.set(h, { at: h, waiting: Math.max(seen?.waiting ?? 0, x.waiting), deferred: Math.max(seen?.deferred ?? 0, x.deferred), oldestSeconds: Math.max(seen?.oldestSeconds ?? 0, x.oldestSeconds) });
  }
  return [...hours.values()];
}
