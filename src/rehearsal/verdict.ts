/**
 * The promises of DESIGN.md, judged from a rehearsal's record, each with the figure that
 * decides it and, when it was not kept, what the record shows about why.
 */
import type { RehearsalRecord } from './rehearse.js';
import type { Sample } from './recorder.js';

export interface Verdict {
  readonly promise: string;
  readonly held: boolean;
  readonly figure: string;
}

/** Readers and members must be answered within this (DESIGN.md principle 4). */
export const ANSWER_LIMIT_MS = 2000;

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const ms = (n: number) => `${Math.round(n)} ms`;
/** The slowest answer, when it broke the limit: what it was and when. */
const slowestOf = (t: RehearsalRecord['totals']['pop3']) => {
  const s = t.slowest[0];
  return s && s.ms >= ANSWER_LIMIT_MS ? `; the slowest: ${s.what}, ${ms(s.ms)} at ${Math.round(s.t)} s` : '';
};

/** Mail accepted and not yet delivered at each sample: exact each second (the status page's figure may be a few seconds old). */
export function undelivered(r: RehearsalRecord): number[] {
  let accepted = 0;
  return r.samples.map((s) => (accepted += s.smtp.byCode['250'] ?? 0) - s.delivered);
}

/** Deliveries per second while a backlog remained (so delivery ran flat out) on healthy storage, by delivery processes running. */
export function drainRates(r: RehearsalRecord): Map<number, { rate: number; seconds: number }> {
  const healthy = (s: Sample) => {
    const p = s.phase < 0 ? undefined : r.scenario.phases[s.phase];
    return !p || (p.storage.dropEverySeconds === 0 && p.storage.bandwidthBytesPerSecond === 0 && !p.storage.refuse && typeof p.storage.latencyMs === 'number');
  };
  const backlog = undelivered(r);
  const by = new Map<number, { delivered: number; seconds: number }>();
  const minBacklog = Math.max(20, r.scenario.rate);
  for (let i = 1; i < r.samples.length; i++) {
    const [a, b] = [r.samples[i - 1]!, r.samples[i]!];
    if (!healthy(a) || !healthy(b) || backlog[i - 1]! < minBacklog || backlog[i]! < minBacklog || a.deliveryProcesses !== b.deliveryProcesses) continue;
    const g = by.get(b.deliveryProcesses) ?? { delivered: 0, seconds: 0 };
    g.delivered += b.delivered - a.delivered;
    g.seconds += b.t - a.t;
    by.set(b.deliveryProcesses, g);
  }
  return new Map([...by].filter(([, g]) => g.seconds >= 2).map(([n, g]) => [n, { rate: g.delivered / g.seconds, seconds: g.seconds }]));
}

export function verdicts(r: RehearsalRecord): Verdict[] {
  const out: Verdict[] = [];
  const { smtp, pop3, portal } = r.totals;
  const unreadable = Object.keys(r.readBack.unreadable);
  out.push({
    promise: 'Nothing accepted is lost',
    held: r.readBack.lost.length === 0 && unreadable.length === 0,
    figure: `${r.readBack.lost.length} of ${r.accepted} accepted messages missing from their mailboxes${unreadable.length ? `; ${unreadable.length} mailbox(es) could not be read: ${Object.entries(r.readBack.unreadable).map(([u, why]) => `${u}: ${why}`).slice(0, 3).join('; ')}` : ''}${r.inDoubt ? ` (${r.inDoubt} more were in doubt: the connection broke after their data)` : ''}`,
  });
  out.push({ promise: 'Delivered once', held: r.readBack.duplicated.length === 0, figure: `${r.readBack.duplicated.length} duplicated among ${r.readBack.messages} messages read back` });
  const refused = Object.entries(smtp.byCode).filter(([c]) => c !== '250');
  const failed = sum(smtp.errors);
  out.push({
    promise: 'Accepting mail never waits on the mailbox store',
    held: refused.length === 0 && failed === 0,
    figure: `${smtp.byCode['250'] ?? 0} answered 250, ${refused.map(([c, n]) => `${n} × ${c}`).join(', ') || 'no other reply'}, ${failed} without an answer; acceptance p99 ${ms(smtp.p99)}, max ${ms(smtp.max)}`,
  });
  const clear = (code: string) => code === '+OK' || code === '-ERR [SYS/TEMP]' || code === '-ERR [IN-USE]';
  const unclear = Object.entries(pop3.byCode).filter(([c]) => !clear(c));
  const answers = sum(pop3.byCode);
  out.push({
    promise: `Readers fail fast: every POP3 answer within ${ANSWER_LIMIT_MS / 1000} s, a success or a clear temporary error`,
    held: pop3.max < ANSWER_LIMIT_MS && unclear.length === 0 && sum(pop3.errors) === 0 && answers > 0,
    figure: `${answers} answers, p50 ${ms(pop3.p50)}, p99 ${ms(pop3.p99)}, max ${ms(pop3.max)}; ${(((pop3.byCode['-ERR [SYS/TEMP]'] ?? 0) / Math.max(1, answers)) * 100).toFixed(1)}% [SYS/TEMP]${slowestOf(pop3)}${unclear.length ? `; unclear: ${unclear.map(([c, n]) => `${n} × ${c}`).join(', ')}` : ''}${sum(pop3.errors) ? `; no answer: ${Object.entries(pop3.errors).map(([e, n]) => `${n} × ${e}`).join('; ')}` : ''}`,
  });
  const bad = Object.entries(portal.byCode).filter(([c]) => !/^(2\d\d|503)$/.test(c));
  out.push({
    promise: `The member site keeps serving: every login request within ${ANSWER_LIMIT_MS / 1000} s`,
    held: portal.max < ANSWER_LIMIT_MS && bad.length === 0 && sum(portal.errors) === 0 && sum(portal.byCode) > 0,
    figure: `${sum(portal.byCode)} requests, p50 ${ms(portal.p50)}, p99 ${ms(portal.p99)}, max ${ms(portal.max)}${slowestOf(portal)}${bad.length ? `; refused: ${bad.map(([c, n]) => `${n} × ${c}`).join(', ')}` : ''}${sum(portal.errors) ? `; no answer: ${Object.entries(portal.errors).map(([e, n]) => `${n} × ${e}`).join('; ')}` : ''}`,
  });
  const shown = r.samples.filter((s) => s.status.ms !== null && s.status.waiting !== null);
  const slowest = Math.max(0, ...r.samples.map((s) => s.status.ms ?? Infinity));
  out.push({
    promise: 'The backlog is visible on the status page all along',
    held: shown.length === r.samples.length && slowest < ANSWER_LIMIT_MS && r.samples.length > 0,
    figure: `${shown.length} of ${r.samples.length} samples showed the backlog and its oldest age; slowest answer ${slowest === Infinity ? 'none' : ms(slowest)}; backlog peaked at ${Math.max(0, ...r.samples.map((s) => s.status.waiting ?? 0))}, oldest ${Math.round(Math.max(0, ...r.samples.map((s) => s.status.oldestSeconds ?? 0)))} s`,
  });
  const open = r.incidents.filter((i) => i.closed === null);
  out.push({
    promise: 'An incident notice opens by itself and closes after recovery',
    held: r.incidents.length > 0 && open.length === 0,
    figure: r.incidents.length === 0 ? 'no incident notice opened' : r.incidents.map((i) => `"${(i.title || `notice ${i.id}`)}" open from ${Math.round(i.opened)} s to ${i.closed === null ? 'the end (still open)' : `${Math.round(i.closed)} s`}`).join('; '),
  });
  out.push({
    promise: 'After recovery the backlog drains',
    held: r.drainedAfter !== null,
    figure: r.drainedAfter === null ? `not empty ${r.scenario.drainSeconds} s after the last phase (${r.samples.at(-1)?.status.waiting ?? '?'} waiting)` : `empty ${Math.round(r.drainedAfter)} s after the last phase`,
  });
  const rates = drainRates(r);
  const one = rates.get(1);
  const most = Math.max(...rates.keys());
  const more = rates.get(most);
  out.push({
    promise: 'Added delivery processes drain faster',
    held: one !== undefined && more !== undefined && most > 1 && more.rate > one.rate,
    figure: [...rates].sort(([a], [b]) => a - b).map(([n, g]) => `${n} process${n > 1 ? 'es' : ''}: ${Math.round(g.rate)} msg/s (over ${Math.round(g.seconds)} s of backlog)`).join(', ') || 'no backlog on healthy storage to measure a drain by',
  });
  if (r.ended.length) out.push({ promise: 'Every process ran to the end', held: false, figure: r.ended.join('; ') });
  return out;
}
