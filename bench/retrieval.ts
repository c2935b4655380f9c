import { Pop3Client } from '../test/helpers/pop3-client.js';
import { testMessage } from '../test/helpers/smtp-client.js';
import type { Target } from './targets/target.js';
import type { Figures } from './scenarios.js';
import { median } from './report.js';

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

/**
 * Retrieval by 1 client and by 16 clients on 16 mailboxes (`fetch` reads one whole mailbox):
 * messages and MB per second, each the median of 3 timed runs. Before them, every mailbox is
 * read once by all clients at a time, for every target alike: a server that has been running
 * has its hot paths compiled (Node.js) and its files indexed and cached (Dovecot, the kernel).
 */
export async function retrievalRuns(target: Target, users: readonly string[], perMailbox: number, fetch: (user: string) => Promise<{ messages: number; bytes: number }>): Promise<Figures> {
  await Promise.all(users.map(fetch));
  const out: Figures = {};
  for (const clients of [1, 16]) {
    const rates: number[] = [];
    const throughputs: number[] = [];
    const cpu = cpuMeter(target);
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      const results = await Promise.all(users.slice(0, clients).map(fetch));
      const s = (performance.now() - started) / 1000;
      const n = results.reduce((a, r) => a + r.messages, 0);
      if (n !== clients * perMailbox) throw new Error(`${target.name}: retrieved ${n} of ${clients * perMailbox}`);
      rates.push(n / s);
      throughputs.push(results.reduce((a, r) => a + r.bytes, 0) / s / 1e6);
    }
    out[`clients${clients}PerSecond`] = median(rates);
    out[`clients${clients}MBPerSecond`] = median(throughputs);
    Object.assign(out, cpu.perMessage(3 * clients * perMailbox, `clients${clients}`));
  }
  return out;
}

/**
 * CPU time from now on, of the target's processes and of this process (the clients), per
 * message: `<prefix>ServerCpuUs` and `<prefix>ClientCpuUs`. On a machine where both share
 * the cores, the clients' part bounds what any server can reach.
 */
export function cpuMeter(target: Target): { perMessage(messages: number, prefix: string): Figures } {
  const server = target.cpuSeconds();
  const client = process.cpuUsage();
  return {
    perMessage(messages, prefix) {
      const used = process.cpuUsage(client);
      return {
        [`${prefix}ServerCpuUs`]: ((target.cpuSeconds() - server) * 1e6) / messages,
        [`${prefix}ClientCpuUs`]: (used.user + used.system) / messages,
      };
    },
  };
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
 * warm up), and the server's memory while a session holds it (PSS growth over the idle server:
 * in all, and of it the anonymous memory, without the pages of files it maps).
 */
export async function pop3LargeMailbox(target: Target, count: number): Promise<Figures> {
  await target.reset();
  const user = target.users[98]!;
  await target.seedMailboxes([user], count, testMessage('big', 1024));
  const idle = target.memory();
  const times: number[] = [];
  let held = 0;
  let heldAnon = 0;
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    const c = await Pop3Client.open(target.pop3Port);
    await c.login(user, target.password);
    const stat = (await c.command('STAT')) as string;
    const uidl = (await c.command('UIDL', true)) as Buffer;
    if (i > 0) times.push(performance.now() - started);
    if (!stat.startsWith(`+OK ${count} `) || uidl.toString('latin1').split('\r\n').filter(Boolean).length !== count) throw new Error(`STAT/UIDL for ${count} messages: ${stat}`);
    if (i === 5) {
      const now = target.memory();
      held = now.pss - idle.pss;
      heldAnon = now.pssAnon - idle.pssAnon;
    }
    await c.quit();
  }
  times.sort((a, b) => a - b);
  return { statUidlMs: times[Math.floor(times.length / 2)]!, heldMB: held / 1024 / 1024, heldAnonMB: heldAnon / 1024 / 1024 };
}
