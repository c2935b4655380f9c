/**
 * Draining into PostgreSQL with more delivery processes (issue 10's claim: adding delivery
 * servers drains a backlog faster): `messages` accepted by an MX node onto the spool in
 * PostgreSQL and held; then 1, 2 or 4 processes with only the delivery role start, the
 * backlog is released, and the time until the queue is empty gives msg/s. Spool and
 * mailboxes are on PostgreSQL, straight or through the fault proxy adding latency per
 * chunk each way (storage across a network, as in the seed). Beside it, the ceiling:
 * PostgreSQL's own limit for the same rows, measured with pgbench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { hashPassword } from '../src/directory/index.js';
import { openDirectoryStore } from '../src/wiring.js';
import { PgMailStore, PgSpool } from '../src/backends/postgres/index.js';
import { MANAGE_BATCH } from '../src/queue/index.js';
import { SmtpClient, testMessage } from '../test/helpers/smtp-client.js';
import { ROOT, freePort, removeDir, run, spawnServer, tempDir, testConfig } from '../test/helpers/service.js';
import { TEST_PG_URL, dropSchemas, pgStoreUrl } from '../test/helpers/postgres.js';
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

/**
 * The shipped fault proxy in a process of its own (as the network is not part of the bench's
 * own work), adding `latencyMs` to every chunk each way. Returns its port.
 */
async function startProxy(latencyMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/hikyaku.js'), 'fault-proxy', '--to', '127.0.0.1:5432'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const found = /fault proxy [\d.]+:(\d+) .* control (http:\/\/\S+\/)/.exec(out);
      if (found) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`the fault proxy exited with ${code}: ${out}`)));
  });
  const r = await fetch(m[2]!, { method: 'PATCH', body: JSON.stringify({ latencyMs }) });
  if (!r.ok) throw new Error(`the fault proxy refused the latency: ${r.status} ${await r.text()}`);
  return { child, port: Number(m[1]) };
}

/** Drains `messages` with `processes` delivery processes; `latencyMs` through the fault proxy (0: straight). */
export async function pgDrain(messages: number, processes: number, latencyMs: number): Promise<Figures> {
  const dir = tempDir('hikyaku-bench-pg-');
  const { url, schema } = pgStoreUrl();
  const children: ChildProcess[] = [];
  const spool = new PgSpool(url);
  try {
    let storeUrl = url;
    if (latencyMs > 0) {
      const proxy = await startProxy(latencyMs);
      children.push(proxy.child);
      storeUrl = url.replace(':5432/', `:${proxy.port}/`);
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
    removeDir(dir);
    await dropSchemas([schema]);
  }
}

/**
 * One delivery as PostgreSQL's own benchmark tool runs it, writing the rows ours writes, one
 * delivery at a time: the lease (a queued entry taken with SKIP LOCKED and marked active,
 * committed, as a lease must be before the work starts), then in one statement the entry
 * and its message removed, the body into the mailbox store, the mailbox's counters and the
 * message row. Prepared statements.
 */
const CEILING_SCRIPT = `\\set acct random(1, ${ACCOUNTS})
UPDATE spool_entries SET state = 'active', lease_owner = 'pgbench', lease_token = 'pgbench', attempts = attempts + 1
WHERE id = (SELECT id FROM spool_entries WHERE state = 'queued' ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id AS entry \\gset
WITH e AS (DELETE FROM spool_entries WHERE id = :entry AND lease_token = 'pgbench' RETURNING message_id),
     m AS (DELETE FROM spool_messages s USING e WHERE s.id = e.message_id RETURNING s.id, s.size, s.body),
     b AS (INSERT INTO mail_blobs (id, size, refs, data) SELECT id, size, 1, body FROM m RETURNING id, size),
     u AS (UPDATE mail_mailboxes SET uid_next = uid_next + 1, messages = messages + 1, bytes = bytes + 4200 WHERE id = :acct RETURNING uid_next - 1 AS uid)
INSERT INTO mail_messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date)
SELECT :acct, u.uid, b.id, b.id, convert_to('Delivered-To: u@example.test' || chr(13) || chr(10), 'UTF8'), b.size + 30, 0 FROM u, b;
`;

/**
 * PostgreSQL's write limit here for the rows a delivery writes: pgbench with 32 clients
 * running CEILING_SCRIPT over a spool of `messages` 4 KiB messages (accepted through our
 * spool, as the drain's are). Each script run is one delivery (two transactions).
 */
export async function pgWriteCeiling(messages: number): Promise<Figures> {
  const { url, schema } = pgStoreUrl();
  const spool = new PgSpool(url, { max: 8 });
  const mail = new PgMailStore(url, { max: 2 });
  const dir = tempDir('hikyaku-bench-pgbench-');
  try {
    const clients = Math.min(32, messages);
    const perClient = Math.floor(messages / clients);
    const body = testMessage('ceiling', 4096);
    await Promise.all(
      Array.from({ length: clients * perClient }, async (_, i) => {
        const w = await spool.begin();
        await w.write(body);
        await w.commit({ mailFrom: 'load@client.test', recipients: [`u${i % ACCOUNTS}@example.test`], smtputf8: false });
      }),
    );
    await mail.ping();
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`INSERT INTO ${schema}.mail_mailboxes (id, account_id, name, uid_validity) SELECT i, i, 'INBOX', 1 FROM generate_series(1, ${ACCOUNTS}) AS i`);
    await admin.query(`VACUUM ANALYZE ${schema}.spool_entries`);
    await admin.end();
    const script = join(dir, 'delivery.sql');
    writeFileSync(script, CEILING_SCRIPT);
    const u = new URL(TEST_PG_URL);
    const r = await run('pgbench', ['-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-t', String(perClient), '-f', script, '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', u.pathname.slice(1)], {
      env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
      timeoutMs: 600_000,
    });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout);
    if (r.code !== 0 || !tps) throw new Error(`pgbench failed (${r.code}): ${r.stderr || r.stdout}`);
    const left = Object.values((await spool.stats()).byState).reduce((a, b) => a + b, 0);
    if (left !== 0) throw new Error(`pgbench left ${left} entries in the queue`);
    return { writesPerSecond: Number(tps[1]) };
  } finally {
    await spool.close();
    await mail.close();
    removeDir(dir);
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
