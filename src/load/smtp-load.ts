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
  const stats = new LoadStats();
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
      const message = loadMessage(`${run}-${i}`, o.from, to, pickSize(o.sizes));
      const t0 = performance.now();
      try {
        client ??= await LoadSmtpClient.open(o.host, o.port, hostname(), o.timeoutMs);
        const reply = await client.send(o.from, to, message);
        stats.answered(reply.code, performance.now() - t0, message.length, reply.code === 250);
      } catch (err) {
        stats.failed((err as Error).message);
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
  const accepted = stats.count(250);
  return {
    scenario: 'smtp',
    target: `${o.host}:${o.port}`,
    seconds,
    attempted: stats.attempted,
    accepted,
    acceptedPerSecond: accepted / seconds,
    acceptedBytes: stats.bytes,
    byCode: Object.fromEntries(stats.byCode),
    errors: Object.fromEntries(stats.errors),
    latencyMs: stats.latency(),
  };
}
