import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openDirectoryStore } from '../src/wiring.js';
import { SmtpClient, testMessage } from './helpers/smtp-client.js';
import { freePort, hikyaku, queueDrained, removeDir, seedDirectory, spawnServer, tempDir, testConfig, waitFor } from './helpers/service.js';
import { readMailbox } from './helpers/portal.js';
import { Pop3Client } from './helpers/pop3-client.js';
import { TEST_PG_URL, dropSchemas, pgStoreUrl } from './helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = async (c: Pop3Client, line: string) => String(await c.command(line));

/**
 * Three nodes on one PostgreSQL (directory, spool and mailboxes): two `mx,delivery`, one
 * `pop3`; later a second `pop3` node, to show what the nodes share besides the stores.
 * Each node gets a data directory of its own: nothing passes between them but the database,
 * and the message bodies, in a directory every node mounts (storage.bodies).
 */
describe('several nodes on one PostgreSQL', () => {
  const dir = tempDir();
  const nodeDirs = [tempDir(), tempDir(), tempDir(), tempDir(), tempDir()];
  const bodies = join(tempDir(), 'bodies');
  const { url, schema } = pgStoreUrl();
  const stores = { 'storage.directory': url, 'storage.spool': url, 'storage.mailstore': url };
  const accounts = ['a', 'b', 'c', 'd'].map((l) => `${l}@multi.test`);
  const nodes: ChildProcess[] = [];
  let [mxA, mxB, pop3] = [0, 0, 0];
  let envForMore: NodeJS.ProcessEnv = {};

  before(async () => {
    const store = openDirectoryStore(testConfig(dir, stores));
    await seedDirectory(store, 'multi.test', ['a', 'b', 'c', 'd']);
    await store.close();
    [mxA, mxB, pop3] = [await freePort(), await freePort(), await freePort()];
    // Short leases: a killed node's entries are taken over by the other within seconds.
    const env = { HIKYAKU_STORAGE_DIRECTORY: url, HIKYAKU_STORAGE_SPOOL: url, HIKYAKU_STORAGE_MAILSTORE: url, HIKYAKU_STORAGE_BODIES: pathToFileURL(bodies).href, HIKYAKU_DELIVERY_LEASE_MS: '3000', HIKYAKU_DELIVERY_STORE_TIMEOUT_MS: '1000', HIKYAKU_RELAY_REPLY_TIMEOUT_MS: '1000', HIKYAKU_RELAY_CONNECT_TIMEOUT_MS: '1000', HIKYAKU_HOSTNAME: 'mx.multi.test' };
    nodes.push(await spawnServer(nodeDirs[0]!, { ...env, HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_MX_PORT: String(mxA) }));
    nodes.push(await spawnServer(nodeDirs[1]!, { ...env, HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_MX_PORT: String(mxB) }));
    nodes.push(await spawnServer(nodeDirs[2]!, { ...env, HIKYAKU_ROLES: 'pop3', HIKYAKU_POP3_PORT: String(pop3) }));
    envForMore = env;
  });
  after(async () => {
    for (const n of nodes) n.kill('SIGKILL');
    for (const d of [dir, ...nodeDirs, dirname(bodies)]) removeDir(d);
    await dropSchemas([schema]);
  });

  test('mail sent to both MX nodes is read through the POP3 node exactly once, though one delivery node was killed under load, its bodies in the shared directory; a directory change reaches the nodes', async (t) => {
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

    // Through a CLI on yet another data directory: the change reaches the nodes through the database alone.
    const added = await hikyaku(dir, ['account', 'add', 'e@multi.test', '--password-stdin'], { input: 'a-long-password-1\n', env: { HIKYAKU_STORAGE_DIRECTORY: url } });
    assert.equal(added.code, 0, added.stderr);
    const changed = Date.now();
    const accepts = async () => {
      const c = await SmtpClient.open(mxB);
      try {
        return (await c.send('s@client.test', ['e@multi.test'], testMessage('new-account', 512))).reply.code === 250;
      } finally {
        c.destroy();
      }
    };
    assert.ok(await waitFor(accepts, 10_000, 50), 'the new account gets mail through the other node');
    t.diagnostic(`the new account got mail through the other MX node ${Date.now() - changed} ms after the CLI had made it`);

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
    // A body per message in the shared directory (more only if a node died between writing one and its commit), none in the database.
    const files = readdirSync(bodies).flatMap((sub) => readdirSync(join(bodies, sub)));
    assert.ok(files.length >= found.size, `${files.length} body files for ${found.size} messages`);
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.mail_blobs WHERE data IS NOT NULL`)).rows[0].n, 0, 'no body bytes in the database');
    } finally {
      await admin.end();
    }
    assert.equal((await readMailbox(pop3, 'e@multi.test', 'a-long-password-1')).length, 1);
  });

  test('a second POP3 node: a maildrop open on one is [IN-USE] on the other; failed logins on one count on the other', async () => {
    const pop3b = await freePort();
    nodes.push(await spawnServer(nodeDirs[3]!, { ...envForMore, HIKYAKU_ROLES: 'pop3', HIKYAKU_POP3_PORT: String(pop3b), HIKYAKU_AUTH_MAX_FAILURES_PER_ACCOUNT: '3' }));
    const first = await Pop3Client.open(pop3);
    const second = await Pop3Client.open(pop3b);
    try {
      assert.match(await say(first, 'USER a@multi.test'), /^\+OK/);
      assert.match(await say(first, 'PASS test-password'), /^\+OK/);
      assert.match(await say(second, 'USER a@multi.test'), /^\+OK/);
      assert.match(await say(second, 'PASS test-password'), /^-ERR \[IN-USE\]/, 'the other node knows the maildrop is open');
      assert.match(await say(first, 'QUIT'), /^\+OK/);
      assert.ok(
        await waitFor(async () => {
          const again = await Pop3Client.open(pop3b);
          try {
            await say(again, 'USER a@multi.test');
            return (await say(again, 'PASS test-password')).startsWith('+OK');
          } finally {
            again.destroy();
          }
        }, 10_000, 100),
        'closed on one node, the maildrop opens on the other',
      );
    } finally {
      first.destroy();
      second.destroy();
    }
    // Three wrong passwords on the first POP3 node (its own limit is the default, 5 per account and address) ...
    for (let i = 0; i < 3; i++) {
      const c = await Pop3Client.open(pop3);
      await say(c, 'USER b@multi.test');
      assert.match(await say(c, 'PASS wrong-password'), /^-ERR \[AUTH\]/);
      c.destroy();
    }
    // ... and the second node, whose limit is 3, refuses even the right one from that address.
    const c = await Pop3Client.open(pop3b);
    try {
      await say(c, 'USER b@multi.test');
      const reply = await say(c, 'PASS test-password');
      assert.match(reply, /^-ERR \[(AUTH|SYS\/TEMP)\].*(too many|try again)/i, reply);
    } finally {
      c.destroy();
    }
  });

  test('an IMAP node: an IDLE session on it hears of a message another node delivered; what it deletes is gone for the POP3 node', async () => {
    const imapPort = await freePort();
    nodes.push(await spawnServer(nodeDirs[4]!, { ...envForMore, HIKYAKU_ROLES: 'imap', HIKYAKU_IMAP_PORT: String(imapPort) }));
    const socket = (await import('node:net')).connect(imapPort, '127.0.0.1');
    let text = '';
    let exists = 0;
    socket.on('data', (d) => (text += d.toString('latin1')));
    const seen = (re: RegExp) => waitFor(() => re.test(text), 15_000, 20);
    try {
      socket.write('a LOGIN d@multi.test test-password\r\nb SELECT INBOX\r\n');
      assert.ok(await seen(/b OK \[READ-WRITE\]/), text);
      exists = Number(/\* (\d+) EXISTS/.exec(text)![1]);
      socket.write('c IDLE\r\n');
      assert.ok(await seen(/\+ idling\r\n/), text);
      const smtp = await SmtpClient.open(mxB);
      assert.equal((await smtp.send('s@client.test', ['d@multi.test'], testMessage('idle-across', 512))).reply.code, 250);
      smtp.destroy();
      assert.ok(await seen(new RegExp(`\\* ${exists + 1} EXISTS\\r\\n`)), `the IMAP node heard of the delivery: ${text.slice(-300)}`);
      socket.write(`DONE\r\nd STORE ${exists + 1} +FLAGS (\\Deleted)\r\ne EXPUNGE\r\n`);
      assert.ok(await seen(/e OK EXPUNGE completed/), text);
    } finally {
      socket.destroy();
    }
    const c = await Pop3Client.open(pop3);
    try {
      await say(c, 'USER d@multi.test');
      assert.match(await say(c, 'PASS test-password'), /^\+OK/);
      assert.match(await say(c, 'STAT'), new RegExp(`^\\+OK ${exists} `), 'the message expunged over IMAP is not in the POP3 maildrop');
    } finally {
      c.destroy();
    }
  });

  test('hikyaku db migrate brings a fresh schema up to date, then has nothing to do; with embedded stores there is nothing to migrate', async () => {
    const fresh = pgStoreUrl();
    try {
      const env = { HIKYAKU_STORAGE_DIRECTORY: fresh.url, HIKYAKU_STORAGE_SPOOL: fresh.url, HIKYAKU_STORAGE_MAILSTORE: fresh.url };
      const first = await hikyaku(dir, ['db', 'migrate'], { env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^directory: schema migrated from version 0 to \d+\nportal: schema migrated from version 0 to \d+\nnotices: schema migrated from version 0 to \d+\nspool: schema migrated from version 0 to \d+\nmailstore: schema migrated from version 0 to \d+\n$/);
      const again = await hikyaku(dir, ['db', 'migrate'], { env });
      assert.match(again.stdout, /^(\w+: schema at version \d+, nothing to do\n){5}$/);
      const embedded = await hikyaku(tempDir(), ['db', 'migrate']);
      assert.match(embedded.stdout, /no store is in PostgreSQL/);
    } finally {
      await dropSchemas([fresh.schema]);
    }
  });
});
