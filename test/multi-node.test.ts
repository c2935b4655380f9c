import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDirectoryStore } from '../src/wiring.js';
import { SmtpClient, testMessage } from './helpers/smtp-client.js';
import { freePort, hikyaku, queueDrained, removeDir, seedDirectory, spawnServer, tempDir, testConfig, waitFor } from './helpers/service.js';
import { readMailbox } from './helpers/portal.js';
import { dropSchemas, pgStoreUrl } from './helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Three nodes on one PostgreSQL (spool and mailboxes): two `mx,delivery`, one `pop3`. The
 * directory is still the embedded file, shared by the processes of this one machine (the
 * PostgreSQL directory store is issue 10's next step).
 */
describe('several nodes on one PostgreSQL', () => {
  const dir = tempDir();
  const { url, schema } = pgStoreUrl();
  const stores = { 'storage.spool': url, 'storage.mailstore': url };
  const accounts = ['a', 'b', 'c', 'd'].map((l) => `${l}@multi.test`);
  const nodes: ChildProcess[] = [];
  let [mxA, mxB, pop3] = [0, 0, 0];

  before(async () => {
    const store = openDirectoryStore(testConfig(dir));
    await seedDirectory(store, 'multi.test', ['a', 'b', 'c', 'd']);
    await store.close();
    [mxA, mxB, pop3] = [await freePort(), await freePort(), await freePort()];
    // Short leases: a killed node's entries are taken over by the other within seconds.
    const env = { HIKYAKU_STORAGE_SPOOL: url, HIKYAKU_STORAGE_MAILSTORE: url, HIKYAKU_DELIVERY_LEASE_MS: '3000', HIKYAKU_DELIVERY_STORE_TIMEOUT_MS: '1000', HIKYAKU_RELAY_REPLY_TIMEOUT_MS: '1000', HIKYAKU_RELAY_CONNECT_TIMEOUT_MS: '1000', HIKYAKU_HOSTNAME: 'mx.multi.test' };
    nodes.push(await spawnServer(dir, { ...env, HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_MX_PORT: String(mxA) }));
    nodes.push(await spawnServer(dir, { ...env, HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_MX_PORT: String(mxB) }));
    nodes.push(await spawnServer(dir, { ...env, HIKYAKU_ROLES: 'pop3', HIKYAKU_POP3_PORT: String(pop3) }));
  });
  after(async () => {
    for (const n of nodes) n.kill('SIGKILL');
    removeDir(dir);
    await dropSchemas([schema]);
  });

  test('mail sent to both MX nodes is read through the POP3 node exactly once, though one delivery node was killed under load; a directory change reaches the nodes', async () => {
    const accepted = new Map<string, string>();
    const inDoubt = new Set<string>();
    let running = true;
    let seq = 0;
    const sender = async (port: number) => {
      while (running) {
        let c: SmtpClient;
        try {
          c = await SmtpClient.open(port);
        } catch {
          return; // that node is gone
        }
        while (running) {
          const id = `n${seq++}`;
          const to = accounts[seq % accounts.length]!;
          const r = await c.send('s@client.test', [to], testMessage(id, 1024));
          if (r.reply.code === 250) accepted.set(id, to);
          else if (r.reply.code === 0) {
            inDoubt.add(id);
            break;
          } else assert.fail(`unexpected reply ${r.reply.code} ${r.reply.text}`);
        }
        c.destroy();
      }
    };
    const senders = [mxA, mxA, mxA, mxB, mxB, mxB].map((p) => sender(p));
    await sleep(1500);
    nodes[0]!.kill('SIGKILL');
    await sleep(1500);
    running = false;
    await Promise.all(senders);
    assert.ok(accepted.size > 100, `enough load: ${accepted.size} accepted`);

    // Through one node's CLI (the directory file they share), seen by the other MX node.
    const added = await hikyaku(dir, ['account', 'add', 'e@multi.test', '--password-stdin'], { input: 'a-long-password-1\n' });
    assert.equal(added.code, 0, added.stderr);
    assert.ok(
      await waitFor(async () => {
        const c = await SmtpClient.open(mxB);
        try {
          return (await c.send('s@client.test', ['e@multi.test'], testMessage('new-account', 512))).reply.code === 250;
        } finally {
          c.destroy();
        }
      }, 10_000, 250),
      'the new account gets mail through the other node',
    );

    assert.ok(await queueDrained(dir, 60_000, stores), 'the surviving node finished the killed one\'s work');
    const found = new Map<string, number>();
    for (const address of accounts) {
      for (const m of await readMailbox(pop3, address)) {
        const id = /X-Test-Id: (\S+)/.exec(m)![1]!;
        found.set(id, (found.get(id) ?? 0) + 1);
        assert.ok(accepted.get(id) === address || inDoubt.has(id), `${id} in ${address} was accepted for it or in doubt`);
      }
    }
    for (const [id] of accepted) assert.equal(found.get(id), 1, `${id} delivered exactly once`);
    for (const [id, n] of found) assert.equal(n, 1, `${id} at most once`);
    assert.equal((await readMailbox(pop3, 'e@multi.test', 'a-long-password-1')).length, 1);
  });

  test('hikyaku db migrate brings a fresh schema up to date, then has nothing to do; with embedded stores there is nothing to migrate', async () => {
    const fresh = pgStoreUrl();
    try {
      const env = { HIKYAKU_STORAGE_SPOOL: fresh.url, HIKYAKU_STORAGE_MAILSTORE: fresh.url };
      const first = await hikyaku(dir, ['db', 'migrate'], { env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^spool: schema migrated from version 0 to \d+\nmailstore: schema migrated from version 0 to \d+\n$/);
      const again = await hikyaku(dir, ['db', 'migrate'], { env });
      assert.match(again.stdout, /^spool: schema at version \d+, nothing to do\nmailstore: schema at version \d+, nothing to do\n$/);
      const embedded = await hikyaku(tempDir(), ['db', 'migrate']);
      assert.match(embedded.stdout, /no store is in PostgreSQL/);
    } finally {
      await dropSchemas([fresh.schema]);
    }
  });
});
