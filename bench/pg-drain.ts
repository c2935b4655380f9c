/**
 * Draining into PostgreSQL with more delivery processes (issue 10's claim: adding delivery
 * servers drains a backlog faster): `messages` accepted by an MX node onto the spool in
 * PostgreSQL and held; then 1, 2 or 4 processes with only the delivery role start, the
 * backlog is released, and the time until the queue is empty gives msg/s. Spool and
 * mailboxes are on PostgreSQL, straight or through the fault proxy adding latency per
 * chunk each way (storage across a network, as in the seed). Beside it, the ceiling: the same
 * writes (an append into a mailbox and the spool entry's completion) from 32 connections
 * in one process with nothing else to do.
 */
import type { ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { hashPassword } from '../src/directory/index.js';
import { openDirectoryStore } from '../src/wiring.js';
import { PgMailStore, PgSpool } from '../src/backends/postgres/index.js';
import { FaultProxy } from '../src/servers/index.js';
import { MANAGE_BATCH } from '../src/queue/index.js';
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { freePort, removeDir, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';
import { dropSchemas, pgStoreUrl } from '../test/helpers/postgres.js';
import type { Figures } from './scenarios.js';

const ACCOUNTS = 64;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acceptAll(port: number, messages: number): Promise<void> {
  const body = testMessage('drain', 4096);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      const c = await SmtpClient.open(port);
      while (next < messages) {
        const i = next++;
        const r = await c.send('load@client.test', [`u${i % ACCOUNTS}@example.test`], body);
        if (r.reply.code !== 250) throw new Error(`refused: ${r.reply.code} ${r.reply.text}`);
      }
      await c.quit();
    }),
  );
}

/** Holds (or releases) every entry of the spool, in batches. */
async function setHeld(spool: PgSpool, held: boolean): Promise<void> {
  for (let after = 0; ; ) {
    const ids = await spool.select({ states: held ? ['queued', 'deferred'] : ['held'] }, after, MANAGE_BATCH * 4);
    if (ids.length === 0) return;
    if (held) await spool.hold(ids);
    else await spool.requeue(ids, ['held']);
    after = ids.at(-1)!;
  }
}

/** Drains `messages` with `processes` delivery processes; `latencyMs` through the fault proxy (0: straight). */
export async function pgDrain(messages: number, processes: number, latencyMs: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-pg-');
  const { url, schema } = pgStoreUrl();
  const proxy = latencyMs > 0 ? new FaultProxy({ host: '127.0.0.1', port: 5432 }) : undefined;
  const children: ChildProcess[] = [];
  const spool = new PgSpool(url);
  try {
    let storeUrl = url;
    if (proxy) {
      const { proxy: at } = await proxy.listen({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
      proxy.set({ latencyMs, bandwidthBytesPerSecond: 0, refuse: false, dropEverySeconds: 0 });
      storeUrl = url.replace(':5432/', `:${at.port}/`);
    }
    const store = openDirectoryStore(testConfig(dir));
    const passwordHash = await hashPassword('bench');
    await store.addDomain('example.test');
    for (let i = 0; i < ACCOUNTS; i++) await store.addAccount({ address: `u${i}@example.test`, passwordHash, quotaBytes: 0 });
    await store.close();
    // PostgreSQL here allows 100 connections: 4 delivery processes × 2 stores × 6 fit beside the MX's and the bench's.
    const env = (at: string) => ({ HIKYAKU_STORAGE_SPOOL: at, HIKYAKU_STORAGE_MAILSTORE: at, HIKYAKU_STORAGE_PG_POOL_SIZE: '6', HIKYAKU_LOG_LEVEL: 'warn' });
    const port = await freePort();
    // The backlog is built straight (only the drain is measured); the delivery nodes reach the database through the proxy.
    children.push(await spawnServer(dir, { ...env(url), HIKYAKU_MX_PORT: String(port), HIKYAKU_ROLES: 'mx' }));
    await acceptAll(port, messages);
    await setHeld(spool, true);
    for (let i = 0; i < processes; i++) children.push(await spawnServer(dir, { ...env(storeUrl), HIKYAKU_ROLES: 'delivery' }));
    const started = performance.now();
    await setHeld(spool, false);
    for (;;) {
      const s = await spool.stats();
      if (Object.values(s.byState).every((n) => n === 0)) break;
      if (performance.now() - started > 600_000) throw new Error('the queue did not drain in 10 minutes');
      await sleep(100);
    }
    return { drainPerSecond: messages / ((performance.now() - started) / 1000) };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await spool.close();
    await proxy?.close();
    removeDir(dir);
    await dropSchemas([schema]);
  }
}

/** The same rows a delivery writes, from 32 workers (and connections per store) with nothing else to do: PostgreSQL's limit for them here. */
export async function pgWriteCeiling(messages: number): Promise<Figures> {
  const { url, schema } = pgStoreUrl();
  const spool = new PgSpool(url, { max: 32 });
  const mail = new PgMailStore(url, { max: 32 });
  try {
    const body = testMessage('ceiling', 4096);
    for (let i = 0; i < messages; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, messages - i) }, async (_, j) => {
          const w = await spool.begin();
          await w.write(body);
          await w.commit({ mailFrom: 'load@client.test', recipients: [`u${(i + j) % ACCOUNTS}@example.test`], smtputf8: false });
        }),
      );
    }
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async (_, worker) => {
        for (;;) {
          const [entry] = await spool.lease(`ceiling-${worker}`, 1, 60_000);
          if (!entry) return;
          await mail.append({ accountId: entry.id % ACCOUNTS, messageKey: entry.messageId, header: Buffer.from(`Delivered-To: ${entry.rcpt}\r\n`), openBody: () => Readable.from([body]), bodySize: body.length, internalDate: Date.now(), quotaBytes: 0 });
          await spool.complete(entry);
          done++;
        }
      }),
    );
    return { writesPerSecond: done / ((performance.now() - started) / 1000) };
  } finally {
    await spool.close();
    await mail.close();
    await dropSchemas([schema]);
  }
}

/** The scaling table: 1, 2 and 4 delivery processes, straight and with `latencyMs` per chunk through the proxy, and the ceiling. */
export async function pgDrainTable(messages: number, latencyMs: number): Promise<Figures> {
  const out: Figures = {};
  for (const [name, latency] of [['straight', 0], ['proxy', latencyMs]] as const) {
    for (const processes of [1, 2, 4]) {
      process.stderr.write(`[bench] pg drain: ${processes} delivery process(es), ${latency ? `${latency} ms added` : 'straight'}\n`);
      out[`${name}${processes}`] = (await pgDrain(messages, processes, latency)).drainPerSecond!;
    }
  }
  out.ceiling = (await pgWriteCeiling(messages)).writesPerSecond!;
  out.proxy4to1 = out.proxy4! / out.proxy1!;
  out.bestToCeiling = Math.max(out.straight1!, out.straight2!, out.straight4!) / out.ceiling;
  return out;
}
