/**
 * What a rehearsal records, once a second: the load's answers in that second (by code,
 * failures, answer-time percentiles), the backlog and the deliveries from the nodes'
 * `/metrics`, the status page's figures and open incidents as a customer reads them
 * (`/api/v1/status`, with its answer time), the storage's health at the proxy and how many
 * delivery processes run.
 */
import type { LoadStats } from '../load/index.js';
import type { Installation } from './installation.js';

/** One kind of load in one second. */
export interface Slice {
  readonly byCode: Readonly<Record<string, number>>;
  /** Transactions, commands or requests that got no answer (connection failed, timed out). */
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface Sample {
  /** Seconds since the rehearsal began. */
  readonly t: number;
  /** The phase running (its index), or -1 after the last one (draining). */
  readonly phase: number;
  readonly smtp: Slice;
  readonly pop3: Slice;
  readonly portal: Slice;
  /** From the front node's /metrics: entries waiting (queued, active, deferred) and the oldest one's age; null if it did not answer. */
  readonly backlog: number | null;
  readonly oldestSeconds: number | null;
  /** Deliveries into mailboxes so far, every delivery process together. */
  readonly delivered: number;
  /** The status page's answer: its time (null: no answer in 5 s), its queue figures and service states, the open incidents' ids. */
  readonly status: { readonly ms: number | null; readonly waiting: number | null; readonly oldestSeconds: number | null; readonly services: Readonly<Record<string, string>>; readonly incidents: readonly number[] };
  readonly storageLatencyMs: number;
  /** Store connections the proxy has dropped so far. */
  readonly dropped: number;
  readonly deliveryProcesses: number;
}

export interface Incident {
  readonly id: number;
  /** Empty until read from the public notices. */
  title: string;
  /** When it was first and last seen open (seconds since the start). */
  readonly opened: number;
  closed: number | null;
}

/** The value of each series of `name` in a Prometheus text exposition, with its labels as written. */
export function metricSeries(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) out.push({ labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

async function fetchText(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

/** JSON from a node, or null when it did not answer or answered something else. */
function parsed<T>(text: string | null): T | null {
  try {
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

/** Answers in a LoadStats since the last call. */
class SliceTaker {
  private codes = new Map<string, number>();
  private failures = 0;

  constructor(private readonly stats: LoadStats) {}

  take(): Slice {
    const byCode: Record<string, number> = {};
    for (const [code, n] of this.stats.byCode) {
      const d = n - (this.codes.get(code) ?? 0);
      if (d > 0) byCode[code] = d;
      this.codes.set(code, n);
    }
    const failures = [...this.stats.errors.values()].reduce((a, b) => a + b, 0);
    const failed = failures - this.failures;
    this.failures = failures;
    const { p50, p99, max } = this.stats.latency(true);
    return { byCode, failed, p50, p99, max };
  }
}

export interface LoadStatsSet {
  readonly smtp: LoadStats;
  readonly pop3: LoadStats;
  readonly portal: LoadStats;
}

export class Recorder {
  readonly samples: Sample[] = [];
  readonly incidents: Incident[] = [];
  private readonly takers;
  private readonly delivered = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly began = performance.now();

  constructor(
    private readonly install: Installation,
    stats: LoadStatsSet,
    private readonly phaseOf: () => number,
  ) {
    this.takers = { smtp: new SliceTaker(stats.smtp), pop3: new SliceTaker(stats.pop3), portal: new SliceTaker(stats.portal) };
  }

  /** Seconds since the rehearsal began. */
  now(): number {
    return (performance.now() - this.began) / 1000;
  }

  /**
   * Samples every second on a timer: the load's answers are counted at each tick (exact
   * one-second windows), while the nodes are asked over HTTP, without holding up the next
   * tick however slow they are; samples are recorded in tick order.
   */
  start(): void {
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
  }

  /** The latest sample (undefined before the first). */
  get last(): Sample | undefined {
    return this.samples.at(-1);
  }

  private tick(): void {
    const t = this.now();
    const phase = this.phaseOf();
    const slices = { smtp: this.takers.smtp.take(), pop3: this.takers.pop3.take(), portal: this.takers.portal.take() };
    const deliveryProcesses = this.install.deliveryPorts.length;
    const asked = this.ask();
    this.chain = this.chain.then(async () => this.record(t, phase, slices, deliveryProcesses, await asked));
  }

  /** What the nodes, the status page and the proxy say now. */
  private async ask() {
    const front = this.install.front;
    const statusStarted = performance.now();
    const [metrics, status, proxy, ...deliveries] = await Promise.all([
      fetchText(`http://127.0.0.1:${front.metrics}/metrics`, 5000),
      fetchText(`http://127.0.0.1:${front.portal}/api/v1/status`, 5000).then((text) => ({ text, ms: performance.now() - statusStarted })),
      fetchText(this.install.control, 5000),
      ...this.install.deliveryPorts.map((port) => fetchText(`http://127.0.0.1:${port}/metrics`, 5000).then((text) => ({ port, text }))),
    ]);
    return { metrics, status, proxy, deliveries };
  }

  private async record(t: number, phase: number, slices: Pick<Sample, 'smtp' | 'pop3' | 'portal'>, deliveryProcesses: number, got: Awaited<ReturnType<Recorder['ask']>>): Promise<void> {
    const { metrics, status, proxy, deliveries } = got;
    for (const d of deliveries) {
      const v = d.text && metricSeries(d.text, 'hikyaku_delivery_attempts_total').find((s) => s.labels.includes('outcome="delivered"'));
      if (v) this.delivered.set(d.port, Math.max(v.value, this.delivered.get(d.port) ?? 0));
    }
    const depth = metrics ? metricSeries(metrics, 'hikyaku_queue_entries') : [];
    const oldest = metrics ? metricSeries(metrics, 'hikyaku_queue_oldest_age_seconds')[0] : undefined;
    const page = parsed<{ services: Record<string, { state: string }>; queue: { waiting: number; oldestSeconds: number } | null; open: number[] }>(status.text);
    const faults = parsed<{ faults: { latencyMs: number }; dropped: number }>(proxy);
    const incidents = page?.open ?? [];
    await this.follow(incidents, t);
    this.samples.push({
      t,
      phase,
      ...slices,
      backlog: depth.length ? depth.reduce((n, s) => n + s.value, 0) : null,
      oldestSeconds: oldest?.value ?? null,
      delivered: [...this.delivered.values()].reduce((a, b) => a + b, 0),
      status: {
        ms: page ? status.ms : null,
        waiting: page?.queue?.waiting ?? null,
        oldestSeconds: page?.queue?.oldestSeconds ?? null,
        services: Object.fromEntries(Object.entries(page?.services ?? {}).map(([k, v]) => [k, v.state])),
        incidents,
      },
      storageLatencyMs: faults?.faults.latencyMs ?? this.last?.storageLatencyMs ?? 0,
      dropped: faults?.dropped ?? this.last?.dropped ?? 0,
      deliveryProcesses,
    });
  }

  /** Notes incidents as they open (with their titles, from the public notices; read again while one is missing) and close. */
  private async follow(open: readonly number[], t: number): Promise<void> {
    for (const i of this.incidents) if (i.closed === null && !open.includes(i.id)) i.closed = t;
    for (const id of open) if (!this.incidents.some((i) => i.id === id)) this.incidents.push({ id, title: '', opened: t, closed: null });
    const untitled = this.incidents.filter((i) => i.title === '' && i.closed === null);
    if (untitled.length === 0) return;
    const text = await fetchText(`http://127.0.0.1:${this.install.front.portal}/api/v1/notices/current`, 5000);
    const notices = parsed<{ items?: { id: number; title: string }[] }>(text)?.items ?? [];
    for (const i of untitled) i.title = notices.find((n) => n.id === i.id)?.title ?? '';
  }
}
