/**
 * SMTP senders for `hikyaku load smtp`: `concurrency` connections sending messages of the
 * given sizes to recipients taken in turn, as fast as they are answered or on a fixed
 * schedule of `rate` per second (an open loop: a slow server makes messages wait, it does
 * not slow the schedule), until `count` messages or `durationMs` pass, whichever is first.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LoadSmtpClient } from './smtp-client.js';
import { LoadStats } from './stats.js';
import type { SizeShare } from './options.js';

export interface SmtpLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly from: string;
  readonly recipients: readonly string[];
  readonly perMessage: number;
  readonly sizes: readonly SizeShare[];
  readonly concurrency: number;
  /** Messages per second for the whole run; 0: as fast as answered. */
  readonly rate: number;
  readonly count: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  /** Counts into these stats (a rehearsal keeps one across its phases); new ones otherwise. */
  readonly stats?: LoadStats;
  /** Each message answered 250 (its X-Load-Id and recipients), and each whose fate is unknown (the connection failed after its data). */
  readonly onAccepted?: (id: string, to: readonly string[]) => void;
  readonly onInDoubt?: (id: string, to: readonly string[]) => void;
}

export interface SmtpLoadSummary {
  readonly scenario: 'smtp';
  readonly target: string;
  readonly seconds: number;
  readonly attempted: number;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  readonly acceptedBytes: number;
  readonly byCode: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** A message of about `bytes` bytes: headers a real client writes, then lines of text. */
function loadMessage(id: string, from: string, to: readonly string[], bytes: number): Buffer {
  const head = `From: <${from}>\r\nTo: ${to.map((t) => `<${t}>`).join(', ')}\r\nSubject: load ${id}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${id}@${hostname()}>\r\nX-Load-Id: ${id}\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((bytes - head.length) / line.length))));
}

function pickSize(sizes: readonly SizeShare[]): number {
  const total = sizes.reduce((n, s) => n + s.weight, 0);
  let r = Math.random() * total;
  for (const s of sizes) if ((r -= s.weight) < 0) return s.bytes;
  return sizes.at(-1)!.bytes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the senders; `onSecond` gets the stats once a second (for a progress line). */
export async function runSmtpLoad(o: SmtpLoadOptions, onSecond?: (stats: LoadStats, seconds: number) => void): Promise<SmtpLoadSummary> {
  const stats = o.stats ?? new LoadStats();
  const before = { attempted: stats.attempted, accepted: stats.count(250), bytes: stats.bytes };
  const started = performance.now();
  const deadline = started + o.durationMs;
  const run = randomBytes(4).toString('hex');
  let next = 0;
  let rcpt = 0;
  const ticker = onSecond ? setInterval(() => onSecond(stats, (performance.now() - started) / 1000), 1000) : undefined;
  const worker = async () => {
    let client: LoadSmtpClient | undefined;
    while (next < o.count && performance.now() < deadline) {
      const i = next++;
      if (o.rate > 0) {
        const due = started + (i * 1000) / o.rate;
        if (due > deadline) break;
        if (due > performance.now()) await sleep(due - performance.now());
      }
      const to = Array.from({ length: o.perMessage }, () => o.recipients[rcpt++ % o.recipients.length]!);
      const id = `${run}-${i}`;
      const message = loadMessage(id, o.from, to, pickSize(o.sizes));
      const t0 = performance.now();
      let sent = false;
      try {
        client ??= await LoadSmtpClient.open(o.host, o.port, hostname(), o.timeoutMs);
        const reply = await client.send(o.from, to, message, () => (sent = true));
        stats.answered(reply.code, performance.now() - t0, message.length, reply.code === 250, `a message of ${message.length} bytes`);
        if (reply.code === 250) o.onAccepted?.(id, to);
      } catch (err) {
        stats.failed((err as Error).message);
        if (sent) o.onInDoubt?.(id, to);
        client?.destroy();
        client = undefined;
      }
    }
    await client?.quit();
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  const accepted = stats.count(250) - before.accepted;
  return {
    scenario: 'smtp',
    target: `${o.host}:${o.port}`,
    seconds,
    attempted: stats.attempted - before.attempted,
    accepted,
    acceptedPerSecond: accepted / seconds,
    acceptedBytes: stats.bytes - before.bytes,
    byCode: Object.fromEntries(stats.byCode),
    errors: Object.fromEntries(stats.errors),
    latencyMs: stats.latency(),
  };
}
