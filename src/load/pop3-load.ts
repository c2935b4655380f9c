/**
 * POP3 readers for `hikyaku load pop3`: each account polls every `everyMs` (the polls of all
 * accounts spread over the interval, as desk clients' timers are): log in, STAT, UIDL,
 * RETR what it has not seen, DELE it with `delete`, QUIT. Every command's answer time is
 * counted, and answers by kind: +OK, and -ERR with its response code ([SYS/TEMP], [IN-USE],
 * [AUTH]), which is how a reader tells a store outage from a wrong password.
 */
import { LoadPop3Client } from './pop3-client.js';
import { LoadStats } from './stats.js';
import { everyUser } from './schedule.js';

export interface Pop3LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly users: readonly string[];
  readonly password: string;
  readonly everyMs: number;
  readonly durationMs: number;
  /** DELE what was retrieved (leave it on the server otherwise). */
  readonly delete: boolean;
  readonly timeoutMs: number;
  /** Counts into these stats (a rehearsal reads them as it goes); new ones otherwise. */
  readonly stats?: LoadStats;
}

export interface Pop3LoadSummary {
  readonly scenario: 'pop3';
  readonly target: string;
  readonly seconds: number;
  readonly polls: number;
  readonly commands: number;
  readonly retrieved: number;
  readonly retrievedBytes: number;
  /** Answers by kind: "+OK", "-ERR [SYS/TEMP]", "-ERR [IN-USE]", "-ERR [AUTH]", "-ERR". */
  readonly byCode: Record<string, number>;
  readonly temporaryShare: number;
  readonly errors: Record<string, number>;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** At most this many messages retrieved per poll (a client fetching a large backlog does it over several polls). */
const RETR_PER_POLL = 200;

function kindOf(ok: boolean, text: string): string {
  if (ok) return '+OK';
  const code = /^\[[A-Z/-]+\]/.exec(text)?.[0];
  return code ? `-ERR ${code}` : '-ERR';
}

export async function runPop3Load(o: Pop3LoadOptions, onSecond?: (stats: LoadStats, seconds: number) => void): Promise<Pop3LoadSummary> {
  const stats = o.stats ?? new LoadStats();
  const started = performance.now();
  const deadline = started + o.durationMs;
  let polls = 0;
  let retrieved = 0;
  const seen = new Map<string, Set<string>>();
  const ticker = onSecond ? setInterval(() => onSecond(stats, (performance.now() - started) / 1000), 1000) : undefined;

  /** One command, timed and counted (a message's bytes for RETR); resolves with the answer, a failed connection throws. */
  const timed = async (c: LoadPop3Client, line: string, multi = false) => {
    const t0 = performance.now();
    const a = await c.command(line, multi);
    const bytes = line.startsWith('RETR') ? a.lines.reduce((n, l) => n + l.length + 2, 0) : 0;
    const what = line.startsWith('PASS') ? 'PASS' : line.startsWith('RETR') ? `RETR (${bytes} bytes)` : line;
    stats.answered(kindOf(a.ok, a.text), performance.now() - t0, bytes, a.ok, what);
    return a;
  };

  const poll = async (user: string) => {
    polls++;
    let c: LoadPop3Client | undefined;
    try {
      const t0 = performance.now();
      c = await LoadPop3Client.open(o.host, o.port, o.timeoutMs);
      stats.answered('+OK', performance.now() - t0, 0, true, 'greeting');
      if (!(await timed(c, `USER ${user}`)).ok || !(await timed(c, `PASS ${o.password}`)).ok) return;
      if (!(await timed(c, 'STAT')).ok) return;
      const uidl = await timed(c, 'UIDL', true);
      if (!uidl.ok) return;
      const known = seen.get(user) ?? new Set<string>();
      seen.set(user, known);
      const fresh = uidl.lines.map((l) => l.split(' ')).filter(([, uid]) => uid && !known.has(uid)).slice(0, RETR_PER_POLL);
      for (const [n, uid] of fresh) {
        if (performance.now() > deadline) break;
        const r = await timed(c, `RETR ${n}`, true);
        if (!r.ok) continue;
        retrieved++;
        known.add(uid!);
        if (o.delete) await timed(c, `DELE ${n}`);
      }
      await timed(c, 'QUIT');
    } catch (err) {
      stats.failed((err as Error).message);
    } finally {
      c?.destroy();
    }
  };

  try {
    await everyUser(o.users, o.everyMs, deadline, poll);
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  const answers = [...stats.byCode.values()].reduce((a, b) => a + b, 0);
  return {
    scenario: 'pop3',
    target: `${o.host}:${o.port}`,
    seconds,
    polls,
    commands: answers,
    retrieved,
    retrievedBytes: stats.bytes,
    byCode: Object.fromEntries(stats.byCode),
    temporaryShare: answers ? stats.count('-ERR [SYS/TEMP]') / answers : 0,
    errors: Object.fromEntries(stats.errors),
    latencyMs: stats.latency(),
  };
}
