/**
 * The benchmark scenarios. Each takes a freshly reset target, is bounded in count and
 * time, uses loopback only, and returns named figures.
 */
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { Pop3Client } from '../test/helpers/pop3-client.js';
import { cpuMeter, pool, retrievable, retrievalRuns, retrieveAll } from './retrieval.js';
import type { Target } from './targets/target.js';

export type Figures = Record<string, number>;

const DEADLINE_MS = 600_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Sends `messages` over `connections` pipelining connections, spread over the users. */
async function send(target: Target, messages: number, size: number, connections: number): Promise<{ seconds: number; latencies: number[] }> {
  const body = testMessage('bench', size);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(messages, connections) }, async () => {
      const c = await SmtpClient.open(target.smtpPort);
      while (next < messages) {
        const n = next++;
        const r = await c.send('load@client.test', [target.users[n % target.users.length]!], body);
        if (r.reply.code !== 250) throw new Error(`${target.name} refused a message: ${r.reply.code} ${r.reply.text}`);
        latencies.push(r.ms);
      }
      await c.quit();
    }),
  );
  latencies.sort((a, b) => a - b);
  return { seconds: (performance.now() - started) / 1000, latencies };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Scenarios 1 and 2: acceptance (msg/s, p50/p99 end of DATA → 250) and time until all are retrievable by POP3. */
export async function smtpEndToEnd(target: Target, messages: number, size: number): Promise<Figures> {
  await target.reset();
  const started = performance.now();
  const cpu = cpuMeter(target);
  const { seconds, latencies } = await send(target, messages, size, 32);
  const accepting = cpu.perMessage(messages, 'accepted');
  await until(async () => (await retrievable(target)) >= messages, 'delivery');
  const e2e = (performance.now() - started) / 1000;
  return {
    ...accepting,
    acceptedPerSecond: messages / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    endToEndSeconds: e2e,
    endToEndPerSecond: messages / e2e,
  };
}

/** Scenario 3: POP3 retrieval of `perMailbox` messages of 4 KiB, by 1 client and by 16 clients on 16 mailboxes. */
export async function pop3Retrieval(target: Target, perMailbox: number): Promise<Figures> {
  await target.reset();
  const users = target.users.slice(0, 16);
  await target.seedMailboxes(users, perMailbox, testMessage('pop', 4096));
  if ((await retrievable(target, users)) !== users.length * perMailbox) throw new Error('seeding failed');
  return retrievalRuns(target, users, perMailbox, (u) => retrieveAll(target, u));
}

/** Scenario 4: server memory per idle session — SMTP after EHLO, POP3 logged in. */
export async function idleSessions(target: Target, sessions: number): Promise<Figures> {
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  const out: Figures = {};
  for (const protocol of ['smtp', 'pop3'] as const) {
    // Fresh processes for each protocol: memory freed by one must not hide the other's growth.
    await target.reset();
    await settle();
    const before = target.memory();
    const open: { destroy(): void }[] = [];
    await pool(Array.from({ length: sessions }), 32, async (_, i) => {
      if (protocol === 'smtp') return void open.push(await SmtpClient.open(target.smtpPort));
      const c = await Pop3Client.open(target.pop3Port);
      await c.login(target.idleUser(i), target.password);
      open.push(c);
    });
    await settle();
    const after = target.memory();
    for (const c of open) c.destroy();
    out[`${protocol}PssKBPerSession`] = (after.pss - before.pss) / sessions / 1024;
    out[`${protocol}RssKBPerSession`] = (after.rss - before.rss) / sessions / 1024;
  }
  return out;
}

/** Scenario 5: accept with delivery held back, then release it: msg/s until the queue is empty. */
export async function drain(target: Target, messages: number, backlog = 0): Promise<Figures> {
  await target.reset({ deliveryPaused: true, backlog });
  const { seconds, latencies } = await send(target, messages, 4096, 32);
  const started = performance.now();
  await target.resumeDelivery();
  await until(() => target.queueEmpty(), 'the queue to drain');
  const drainSeconds = (performance.now() - started) / 1000;
  if ((await retrievable(target)) < messages) throw new Error(`${target.name}: queue empty but not all delivered`);
  return {
    acceptedPausedPerSecond: messages / seconds,
    acceptedPausedP50Ms: percentile(latencies, 50),
    drainPerSecond: messages / drainSeconds,
  };
}
