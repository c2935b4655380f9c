/**
 * Wiring of the node's metrics and health listener (`metrics.listen`), beside wiring.ts:
 * the scrape merges the delivery threads' figures into the main thread's, and readiness
 * asks exactly the stores this node's roles need; the queue gauges follow the spool.
 */
import type { Config } from './config/index.js';
import type { DirectoryCache } from './directory/index.js';
import type { MailStore } from './mailstore/index.js';
import type { Spool } from './queue/index.js';
import type { ThreadSupervisor } from './delivery/index.js';
import type { SessionWorkers } from './processes/index.js';
import { MetricsServer } from './servers/index.js';
import type { ActivityTotals } from './notices/index.js';
import { mergeMetrics, readiness, type HealthCheck, type Logger, type Metrics, type MetricsSnapshot } from './observability/index.js';

export interface MetricsSources {
  readonly metrics: Metrics;
  /** Filled as delivery threads start; read at each scrape. */
  readonly deliveryThreads: readonly ThreadSupervisor[];
  /** The session worker processes (readers.processes), filled as they start. */
  readonly sessionWorkers: readonly SessionWorkers[];
  readonly directory: DirectoryCache;
  readonly spool: Spool;
  readonly mailStore: () => MailStore;
}

type Others = Pick<MetricsSources, 'deliveryThreads' | 'sessionWorkers'>;

/** The figures of every delivery thread and session worker that answers in time. */
async function othersFigures(sources: Others): Promise<MetricsSnapshot[]> {
  const [threads, workers] = await Promise.all([
    Promise.all(sources.deliveryThreads.map((t) => t.ask('metrics', THREAD_ANSWER_MS))),
    Promise.all(sources.sessionWorkers.map((w) => w.ask<MetricsSnapshot>('metrics', THREAD_ANSWER_MS))),
  ]);
  return [...(threads.filter((a) => a !== undefined) as MetricsSnapshot[]), ...workers.flat()];
}

/** The Prometheus text of this node: the main thread's figures with every delivery thread's and session worker's merged in. */
export function metricsScraper(sources: Pick<MetricsSources, 'metrics'> & Others): () => Promise<{ contentType: string; text: string }> {
  return async () => mergeMetrics(sources.metrics, await othersFigures(sources));
}

/** This node's delivery and reader totals from the same figures: the main thread's, every delivery thread's and session worker's. */
export function activityTotals(sources: Pick<MetricsSources, 'metrics'> & Others): () => Promise<ActivityTotals> {
  return async () => {
    const snapshots = [await sources.metrics.snapshot(), ...(await othersFigures(sources))];
    // A histogram's values carry their own names (…_sum, …_count, …_bucket).
    const values = snapshots.flat().flatMap((m) => m.values.map((v) => ({ name: (v as { metricName?: string }).metricName ?? m.name, value: v.value, labels: v.labels as Record<string, unknown> })));
    const sum = (name: string, match: (labels: Record<string, unknown>) => boolean = () => true) => values.filter((v) => v.name === name && match(v.labels)).reduce((n, v) => n + v.value, 0);
    return {
      deliveries: sum('hikyaku_delivery_attempts_total'),
      deliveriesDeferred: sum('hikyaku_delivery_attempts_total', (l) => l.outcome === 'deferred'),
      latencySum: sum('hikyaku_delivery_latency_seconds_sum'),
      latencyCount: sum('hikyaku_delivery_latency_seconds_count'),
      // Readers are POP3 and IMAP: their temporary "try again" answers against all their answers.
      readerReplies: sum('hikyaku_pop3_replies_total') + sum('hikyaku_imap_replies_total'),
      readerErrors: sum('hikyaku_pop3_replies_total', (l) => l.code === 'SYS/TEMP') + sum('hikyaku_imap_replies_total', (l) => l.code === 'UNAVAILABLE'),
    };
  };
}

export async function startMetricsListener(config: Config, sources: MetricsSources, log: Logger): Promise<{ listener: { role: string; url: string; port: number; note: string }; close(): Promise<void> }> {
  const server = new MetricsServer(
    {
      metrics: metricsScraper(sources),
      readiness: () => readiness(healthChecks(config, sources), config['metrics.readyTimeoutMs']),
    },
    log,
  );
  const [host, port] = splitHostPort(config['metrics.listen']);
  const address = await server.listen(host, port);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { listener: { role: 'metrics', url: `http://${shown}:${address.port}/metrics`, port: address.port, note: '/metrics, /healthz, /readyz' }, close: () => server.close() };
}


/** How long a scrape waits for a delivery thread's or worker's figures; a stuck one is left out, not waited for. */
const THREAD_ANSWER_MS = 1000;

/** What this node needs to serve its roles: the directory loaded and answering, the spool, and (for POP3 and delivery) the mailbox store. */
function healthChecks(config: Config, { directory, spool, mailStore }: MetricsSources): HealthCheck[] {
  const checks: HealthCheck[] = [
    {
      name: 'directory',
      where: storeWhere(config['storage.directory']),
      check: async () => {
        if (!directory.loaded) throw new Error('the directory has not been loaded yet');
        if (!directory.storeAnswering) throw new Error('the directory store does not answer; serving the cached copy');
      },
    },
    { name: 'spool', where: storeWhere(config['storage.spool']), check: () => spool.ping() },
  ];
  if (config.roles.some((r) => r === 'pop3' || r === 'imap' || r === 'delivery')) checks.push({ name: 'mailstore', where: storeWhere(config['storage.mailstore']), check: () => mailStore().ping() });
  return checks;
}

/** A store's place as a probe may show it: `sqlite`, or postgres://host:port/database with no user or password. */
function storeWhere(setting: string): string {
  if (setting === 'sqlite') return 'sqlite';
  const u = new URL(setting);
  return `postgres://${u.host}${u.pathname}`;
}

function splitHostPort(hostPort: string): [string, number] {
  const at = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, at).replace(/^\[|\]$/g, ''), Number(hostPort.slice(at + 1))];
}

