import { LoadOptionError, checkTarget, intOption, parseRecipients, parseSizes, runPop3Load, runPortalLoad, runSmtpLoad, type LoadStats } from '../load/index.js';
import { hostPort } from './fault-proxy-command.js';
import { CliError, type Io } from './output.js';

export const LOAD_USAGE = `  load smtp --target HOST:PORT --rcpt 'user{1..100}@example.test' [--sizes 4k:80,64k:15,1m:5]
            [--concurrency 8] [--rate MSG_PER_S] [--count 1000] [--duration SECONDS]
            [--per-message 1] [--sender ADDRESS] [--allow-target HOST]
                                send mail to a Hikyaku (or any SMTP server) on this machine:
                                a progress line each second on stderr, a JSON summary on stdout
  load pop3 --target HOST:PORT --users 'user{1..100}@example.test' --password-stdin
            [--every SECONDS] [--duration SECONDS] [--delete] [--allow-target HOST]
                                each account polls as a desk client does (login, STAT, UIDL,
                                RETR what is new, --delete: DELE it), answer times and
                                answers by kind ([SYS/TEMP], [IN-USE], [AUTH])
  load portal --target HOST:PORT --users ... --password-stdin [--every SECONDS] [--duration SECONDS]
                                member-site logins: log in, the session, log out; answer
                                times and answers by HTTP status`;

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
  users?: string;
  every?: string;
  delete?: boolean;
  'password-stdin'?: boolean;
}

/** `12 s · 2400 sent · 200/s · p50 4.2 / p99 18 ms · 250×2398 451×2` */
function progressLine(stats: LoadStats, seconds: number, lastAttempted: number, what: string): string {
  const l = stats.latency(true);
  const failed = [...stats.errors.values()].reduce((a, b) => a + b, 0);
  const codes = [...stats.byCode].map(([c, n]) => `${c}×${n}`).concat(failed ? [`failed×${failed}`] : []);
  return `${Math.round(seconds)} s · ${stats.attempted} ${what} · ${stats.attempted - lastAttempted}/s · p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} ms · ${codes.join(' ') || 'no answers yet'}`;
}

export async function runLoadCommand(kind: string | undefined, values: LoadValues, io: Io): Promise<number> {
  if (kind !== 'smtp' && kind !== 'pop3' && kind !== 'portal') throw new CliError(`usage:\n${LOAD_USAGE}`, 2);
  try {
    const { host, port } = hostPort('--target', values.target);
    checkTarget(host, values['allow-target'] ?? []);
    const durationMs = intOption('duration', values.duration, 60, 1, 86_400) * 1000;
    let last = 0;
    const progress = (stats: LoadStats, seconds: number) => {
      io.err(progressLine(stats, seconds, last, kind === 'smtp' ? 'sent' : kind === 'pop3' ? 'answers' : 'requests'));
      last = stats.attempted;
    };
    if (kind !== 'smtp') {
      if (!values['password-stdin']) throw new LoadOptionError('--password-stdin: the accounts\' password is read from standard input (one password for every account)');
      const password = (await io.readStdin()).replace(/\r?\n$/, '');
      if (!password || /[\r\n\0]/.test(password)) throw new LoadOptionError('--password-stdin: give one password on one line');
      const users = parseRecipients(values.users ?? '', '--users');
      const everyMs = intOption('every', values.every, 60, 1, 86_400) * 1000;
      const summary =
        kind === 'pop3'
          ? await runPop3Load({ host, port, users, password, everyMs, durationMs, delete: values.delete ?? false, timeoutMs: 30_000 }, progress)
          : await runPortalLoad({ base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, users, password, everyMs, durationMs, timeoutMs: 30_000 }, progress);
      io.out(JSON.stringify(summary, null, 2));
      return 0;
    }
    const options = {
      host,
      port,
      from: values.sender ?? 'load@load.invalid',
      recipients: parseRecipients(values.rcpt ?? '', '--rcpt'),
      perMessage: intOption('per-message', values['per-message'], 1, 1, 100),
      sizes: parseSizes(values.sizes ?? '4k'),
      concurrency: intOption('concurrency', values.concurrency, 8, 1, 1000),
      rate: intOption('rate', values.rate, 0, 0, 100_000),
      count: intOption('count', values.count, 1000, 1, 10_000_000),
      durationMs,
      timeoutMs: 30_000,
    };
    io.out(JSON.stringify(await runSmtpLoad(options, progress), null, 2));
    return 0;
  } catch (err) {
    if (err instanceof LoadOptionError) throw new CliError(err.message, 2);
    throw err;
  }
}
