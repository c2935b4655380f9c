import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * One mail system under benchmark. Both Hikyaku and the Postfix + Dovecot anchor offer
 * the same users (user1..user100@example.test, password "secret"), SMTP and POP3 ports.
 */
export interface Target {
  readonly name: string;
  readonly smtpPort: number;
  readonly pop3Port: number;
  readonly imapPort: number;
  readonly users: readonly string[];
  readonly password: string;
  /** What the system makes durable before it answers 250, for the report. */
  readonly durability: string;
  /** The scenarios it takes part in; absent: every one. */
  readonly runs?: readonly string[];
  /** Empty queue and mailboxes, fresh processes; delivery held back if asked. */
  /** A fresh start; `backlog`: that many deferred entries (due in a day) waiting in the queue first (Hikyaku only). */
  reset(options?: { deliveryPaused?: boolean; backlog?: number }): Promise<void>;
  resumeDelivery(): Promise<void>;
  queueEmpty(): Promise<boolean>;
  /** Writes `count` copies of `message` straight into each user's mailbox (no SMTP). */
  seedMailboxes(users: readonly string[], count: number, message: Buffer): Promise<void>;
  /** A user to log in as for the i-th idle POP3 session. */
  idleUser(i: number): string;
  /** RSS and PSS summed over all of the system's processes, in bytes. */
  memory(): Memory;
  /**
   * CPU time (user + system) its processes have used so far, in seconds: the live ones and
   * the children they have reaped (a Dovecot session process, a Postfix smtpd).
   */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export const USERS = Array.from({ length: 100 }, (_, i) => `user${i + 1}@example.test`);
export const PASSWORD = 'secret';

type ProcessMatch = (exe: string, pid: number) => boolean;

/** Reads `file` of every process (/proc/PID/file) whose executable path `matches`, skipping those that end meanwhile. */
function readEach(matches: ProcessMatch, file: string, use: (text: string) => void): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (matches(readlinkSync(`/proc/${name}/exe`), Number(name))) use(readFileSync(`/proc/${name}/${file}`, 'utf8'));
    } catch {
      // The process ended while we looked.
    }
  }
}

// USER_HZ: the unit of /proc's CPU times on Linux (x86-64 and arm64 alike).
const CLOCK_TICKS = 100;

/** Sums utime + stime + cutime + cstime (/proc/PID/stat) over every process whose executable path `matches`, in seconds. */
export function cpuOf(matches: ProcessMatch): number {
  let ticks = 0;
  readEach(matches, 'stat', (stat) => {
    // The fields after the command name (which may hold spaces) in parentheses: utime is the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  });
  return ticks / CLOCK_TICKS;
}

/**
 * Sums smaps_rollup over every process whose executable path `matches`. `pssAnon`: the PSS
 * that is not pages of files the process maps (a database read through mmap, Dovecot's
 * indexes), which the kernel's page cache holds whether mapped or not.
 */
export function memoryOf(matches: ProcessMatch): Memory {
  const sum: Memory = { rss: 0, pss: 0, pssAnon: 0 };
  readEach(matches, 'smaps_rollup', (rollup) => {
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    sum.rss += kb('Rss');
    sum.pss += kb('Pss');
    sum.pssAnon += kb('Pss_Anon') + kb('Pss_Shmem');
  });
  return sum;
}

export interface Memory {
  rss: number;
  pss: number;
  pssAnon: number;
}
