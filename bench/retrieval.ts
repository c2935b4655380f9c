import { Pop3Client } from '../test/helpers/pop3-client.js';
import { testMessage } from '../test/helpers/smtp-client.js';
import type { Target } from './targets/target.js';
import type { Figures } from './scenarios.js';

/** Runs `work` for each item with at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

/** Messages retrievable right now: POP3 login + STAT + QUIT for each user (the same check for every target). */
export async function retrievable(target: Target, users: readonly string[] = target.users): Promise<number> {
  let total = 0;
  await pool(users, 16, async (user) => {
    const c = await Pop3Client.open(target.pop3Port);
    await c.login(user, target.password);
    const stat = (await c.command('STAT')) as string;
    const m = /^\+OK (\d+) /.exec(stat);
    if (!m) throw new Error(`STAT for ${user}: ${stat}`);
    total += Number(m[1]);
    await c.quit();
  });
  return total;
}

/** LOGIN + UIDL + RETR all (16 pipelined, as PIPELINING clients do) + QUIT; returns messages and bytes. */
export async function retrieveAll(target: Target, user: string): Promise<{ messages: number; bytes: number }> {
  const c = await Pop3Client.open(target.pop3Port);
  await c.login(user, target.password);
  const uidl = (await c.command('UIDL', true)) as Buffer;
  const count = uidl.toString('latin1').split('\r\n').filter(Boolean).length;
  let bytes = 0;
  let next = 1;
  const inFlight: Promise<string | Buffer>[] = [];
  while (next <= count || inFlight.length > 0) {
    while (next <= count && inFlight.length < 16) inFlight.push(c.command(`RETR ${next++}`, true));
    const r = await inFlight.shift()!;
    if (typeof r === 'string') throw new Error(`RETR failed: ${r}`);
    bytes += r.length;
  }
  await c.quit();
  return { messages: count, bytes };
}

/**
 * A mailbox of `count` messages over POP3: LOGIN + STAT + UIDL (median of 5 after one to
 * warm up), and the server's memory while a session holds it (PSS growth over the idle server).
 */
export async function pop3LargeMailbox(target: Target, count: number): Promise<Figures> {
  await target.reset();
  const user = target.users[98]!;
  await target.seedMailboxes([user], count, testMessage('big', 1024));
  const idle = target.memory();
  const times: number[] = [];
  let held = 0;
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    const c = await Pop3Client.open(target.pop3Port);
    await c.login(user, target.password);
    const stat = (await c.command('STAT')) as string;
    const uidl = (await c.command('UIDL', true)) as Buffer;
    if (i > 0) times.push(performance.now() - started);
    if (!stat.startsWith(`+OK ${count} `) || uidl.toString('latin1').split('\r\n').filter(Boolean).length !== count) throw new Error(`STAT/UIDL for ${count} messages: ${stat}`);
    if (i === 5) held = target.memory().pss - idle.pss;
    await c.quit();
  }
  times.sort((a, b) => a - b);
  return { statUidlMs: times[Math.floor(times.length / 2)]!, heldMB: held / 1024 / 1024 };
}
