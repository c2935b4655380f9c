import { LoadOptionError, checkTarget, intOption, parseRecipients, parseSizes, runSmtpLoad, type LoadStats } from '../load/index.js';
import { hostPort } from './fault-proxy-command.js';
import { CliError, type Io } from './output.js';

export const LOAD_USAGE = `  load smtp --target HOST:PORT --rcpt 'user{1..100}@example.test' [--sizes 4k:80,64k:15,1m:5]
            [--concurrency 8] [--rate MSG_PER_S] [--count 1000] [--duration SECONDS]
            [--per-message 1] [--sender ADDRESS] [--allow-target HOST]
                                send mail to a Hikyaku (or any SMTP server) on this machine:
                                a progress line each second on stderr, a JSON summary on stdout`;

export interface LoadValues {
  target?: string;
  rcpt?: string;
  sizes?: string;
  concurrency?: string;
  rate?: string;
  count?: string;
  duration?: string;
  'per-message'?: string;
  sender?: string;
  'allow-target'?: string[];
}

/** `12 s · 2400 sent · 200 msg/s · p50 4.2 / p99 18 ms · 250×2398 451×2` */
function progressLine(stats: LoadStats, seconds: number, lastAttempted: number): string {
  const l = stats.latency(true);
  const codes = [...stats.byCode].map(([c, n]) => `${c}×${n}`).concat([...stats.errors.values()].reduce((a, b) => a + b, 0) ? [`failed×${[...stats.errors.values()].reduce((a, b) => a + b, 0)}`] : []);
  return `${Math.round(seconds)} s · ${stats.attempted} sent · ${stats.attempted - lastAttempted} msg/s · p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} ms · ${codes.join(' ') || 'no answers yet'}`;
}

export async function runLoadCommand(kind: string | undefined, values: LoadValues, io: Io): Promise<number> {
  if (kind !== 'smtp') throw new CliError(`usage:\n${LOAD_USAGE}`, 2);
  try {
    const { host, port } = hostPort('--target', values.target);
    checkTarget(host, values['allow-target'] ?? []);
    const options = {
      host,
      port,
      from: values.sender ?? 'load@load.invalid',
      recipients: parseRecipients(values.rcpt ?? ''),
      perMessage: intOption('per-message', values['per-message'], 1, 1, 100),
      sizes: parseSizes(values.sizes ?? '4k'),
      concurrency: intOption('concurrency', values.concurrency, 8, 1, 1000),
      rate: intOption('rate', values.rate, 0, 0, 100_000),
      count: intOption('count', values.count, 1000, 1, 10_000_000),
      durationMs: intOption('duration', values.duration, 60, 1, 86_400) * 1000,
      timeoutMs: 30_000,
    };
    let last = 0;
    const summary = await runSmtpLoad(options, (stats, seconds) => {
      io.err(progressLine(stats, seconds, last));
      last = stats.attempted;
    });
    io.out(JSON.stringify(summary, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof LoadOptionError) throw new CliError(err.message, 2);
    throw err;
  }
}
