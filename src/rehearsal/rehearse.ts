/**
 * Runs a scenario against an installation: the phases on the wall clock (each sets the
 * storage's health at the proxy, ramping latency second by second, starts the delivery
 * processes it asks for, and sends its inbound mail), readers and members throughout, a
 * sample every second; then the storage is made healthy and the backlog given time to
 * drain and the incident to close; then every mailbox is read back.
 */
import { LoadStats, parseSizes, readBack, runPop3Load, runPortalLoad, runSmtpLoad } from '../load/index.js';
import type { Installation } from './installation.js';
import { Recorder, type Incident, type Sample } from './recorder.js';
import { latencyAt, type Phase, type Scenario } from './scenario.js';

export interface RehearsalRecord {
  readonly scenario: Scenario;
  readonly startedAt: string;
  readonly samples: readonly Sample[];
  readonly incidents: readonly Incident[];
  /** When each phase began (seconds since the start), and when the drain after them did. */
  readonly phaseStarts: readonly number[];
  readonly drainStart: number;
  /** Seconds after the drain began until the backlog was empty (null: not within drainSeconds). */
  readonly drainedAfter: number | null;
  /** Mail: accepted (message × recipient), in doubt (the connection failed after the data), read back. */
  readonly accepted: number;
  readonly inDoubt: number;
  readonly readBack: { readonly messages: number; readonly lost: readonly string[]; readonly duplicated: readonly string[]; readonly unexpected: readonly string[]; readonly unreadable: Readonly<Record<string, string>> };
  /** Totals over the whole run: answers by code, failures by reason, answer times. */
  readonly totals: Readonly<Record<'smtp' | 'pop3' | 'portal', { byCode: Record<string, number>; errors: Record<string, number>; p50: number; p99: number; max: number; slowest: { what: string; ms: number; t: number }[] }>>;
  /** Processes that ended during the run. */
  readonly ended: readonly string[];
}

export interface RehearsalRun {
  readonly scenario: Scenario;
  readonly install: Installation;
  readonly domain: string;
  readonly users: readonly string[];
  readonly password: string;
  /** A line now and then for the operator watching. */
  readonly say: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PUT sets every fault (the rest healthy); PATCH changes only those given (a ramp's latency, leaving the drop timer running). */
async function setStorage(control: string, faults: object, method: 'PUT' | 'PATCH' = 'PUT'): Promise<void> {
  const r = await fetch(control, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults), signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`the fault proxy refused ${JSON.stringify(faults)}: ${await r.text()}`);
}

function totalsOf(s: LoadStats, began: number) {
  return { byCode: Object.fromEntries(s.byCode), errors: Object.fromEntries(s.errors), ...s.latency(), slowest: s.slowest.map((x) => ({ what: x.what, ms: x.ms, t: (x.at - began) / 1000 })) };
}

export async function rehearse(run: RehearsalRun): Promise<RehearsalRecord> {
  const { scenario, install, users, password } = run;
  const stats = { smtp: new LoadStats(), pop3: new LoadStats(), portal: new LoadStats() };
  let phase = 0;
  const recorder = new Recorder(install, stats, () => phase);
  const accepted = new Set<string>();
  const inDoubt = new Set<string>();
  const total = scenario.phases.reduce((s, p) => s + p.seconds, 0) * 1000;
  const began = Date.now();
  const startedAt = new Date(began).toISOString();
  const sizes = parseSizes(scenario.sizes);
  const front = install.front;

  recorder.start();
  const readers = runPop3Load({ host: '127.0.0.1', port: front.pop3, users: users.slice(0, scenario.readers.accounts), password, everyMs: scenario.readers.everySeconds * 1000, durationMs: total, delete: false, timeoutMs: 30_000, stats: stats.pop3 });
  const members = runPortalLoad({ base: `http://127.0.0.1:${front.portal}`, users: users.slice(0, scenario.members.accounts), password, everyMs: scenario.members.everySeconds * 1000, durationMs: total, timeoutMs: 30_000, stats: stats.portal });
  const senders: Promise<unknown>[] = [];
  const phaseStarts: number[] = [];

  const runPhase = async (p: Phase) => {
    const began = performance.now();
    await setStorage(install.control, { latencyMs: latencyAt(p.storage, 0), dropEverySeconds: p.storage.dropEverySeconds, bandwidthBytesPerSecond: p.storage.bandwidthBytesPerSecond, refuse: p.storage.refuse });
    const rate = scenario.rate * p.inbound;
    if (rate > 0) {
      senders.push(
        runSmtpLoad({
          host: '127.0.0.1',
          port: front.mx,
          from: `load@${run.domain}`,
          recipients: users,
          perMessage: 1,
          sizes,
          // Enough connections for the rate at a second per message; an open loop either way.
          concurrency: Math.max(4, Math.min(200, Math.ceil(rate))),
          rate,
          count: Math.ceil(rate * p.seconds) + 1,
          durationMs: p.seconds * 1000,
          timeoutMs: 30_000,
          stats: stats.smtp,
          onAccepted: (id, to) => to.forEach((a) => accepted.add(`${id} ${a}`)),
          onInDoubt: (id, to) => to.forEach((a) => inDoubt.add(`${id} ${a}`)),
        }),
      );
    }
    await install.deliveryProcesses(p.deliveryProcesses);
    // A ramp: the latency follows the phase's clock, one step a second.
    while (performance.now() - began < p.seconds * 1000 - 1000) {
      await sleep(1000);
      if (Array.isArray(p.storage.latencyMs)) await setStorage(install.control, { latencyMs: latencyAt(p.storage, (performance.now() - began) / (p.seconds * 1000)) }, 'PATCH').catch(() => undefined);
    }
    const left = began + p.seconds * 1000 - performance.now();
    if (left > 0) await sleep(left);
  };

  let drainStart = 0;
  let drainedAfter: number | null = null;
  let back: Awaited<ReturnType<typeof readBack>> | undefined;
  try {
    for (const [i, p] of scenario.phases.entries()) {
      phase = i;
      phaseStarts.push(recorder.now());
      run.say(`phase ${i + 1}/${scenario.phases.length}: ${p.name} (${p.seconds} s, inbound ${p.inbound}×, ${p.deliveryProcesses} delivery process${p.deliveryProcesses > 1 ? 'es' : ''})`);
      await runPhase(p);
      const s = recorder.last;
      if (s) run.say(`  backlog ${s.status.waiting ?? '?'} · oldest ${Math.round(s.status.oldestSeconds ?? 0)} s · ${accepted.size} accepted · ${s.delivered} delivered`);
    }
    phase = -1;
    drainStart = recorder.now();
    // The storage as on an ordinary day (the first phase's), for the drain.
    const everyday = scenario.phases[0]!.storage;
    await setStorage(install.control, { latencyMs: latencyAt(everyday, 0) });
    await Promise.all([...senders, readers, members]);
    run.say(`draining: at most ${scenario.drainSeconds} s for the backlog to empty and the incident to close`);
    const deadline = performance.now() + scenario.drainSeconds * 1000;
    while (performance.now() < deadline) {
      const s = recorder.last;
      const empty = s !== undefined && s.t > drainStart && s.status.waiting === 0;
      if (empty && drainedAfter === null) drainedAfter = s.t - drainStart;
      if (empty && s.status.incidents.length === 0) break;
      await sleep(1000);
    }
    run.say(`reading back every mailbox`);
    // Reading back is not part of what is measured: the store at full speed for it.
    await setStorage(install.control, {});
    back = await readBack('127.0.0.1', front.pop3, users, password);
  } finally {
    await recorder.stop();
  }
  const lost = [...accepted].filter((k) => !back!.found.has(k));
  const duplicated = [...back.found].filter(([, n]) => n > 1).map(([k]) => k);
  const unexpected = [...back.found.keys()].filter((k) => !accepted.has(k) && !inDoubt.has(k));
  return {
    scenario,
    startedAt,
    samples: recorder.samples,
    incidents: recorder.incidents,
    phaseStarts,
    drainStart,
    drainedAfter,
    accepted: accepted.size,
    inDoubt: inDoubt.size,
    readBack: { messages: back.messages, lost, duplicated, unexpected, unreadable: back.unreadable },
    totals: { smtp: totalsOf(stats.smtp, began), pop3: totalsOf(stats.pop3, began), portal: totalsOf(stats.portal, began) },
    ended: [...install.ended],
  };
}
