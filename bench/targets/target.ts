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
  memory(): { rss: number; pss: number };
  stop(): Promise<void>;
}

export const USERS = Array.from({ length: 100 }, (_, i) => `user${i + 1}@example.test`);
export const PASSWORD = 'secret';

/** Sums smaps_rollup over every process whose executable path `matches`. */
export function memoryOf(matches: (exe: string, pid: number) => boolean): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const pid = Number(name);
      if (!matches(readlinkSync(`/proc/${name}/exe`), pid)) continue;
      const rollup = readFileSync(`/proc/${name}/smaps_rollup`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
      rss += kb('Rss');
      pss += kb('Pss');
    } catch {
      // The process ended while we looked.
    }
  }
  return { rss, pss };
}
