import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteSpool } from '../src/backends/sqlite/index.js';
import { openDirectoryStore, openSpool } from '../src/wiring.js';
import { SmtpClient, testMessage } from './helpers/smtp-client.js';
import { freePort, hikyaku, queueDrained, removeDir, seededDataDir, spawnServer, startTestService, testConfig, testPasswordHash, tempDir } from './helpers/service.js';
import { readMailbox } from './helpers/portal.js';
import { seedBacklog } from './helpers/backlog.js';
import { dropSchemas, pgStoreUrl } from './helpers/postgres.js';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';

const { url, schema } = pgStoreUrl();
after(() => dropSchemas([schema]));

test('db copy moves an embedded installation into PostgreSQL, verified table by table; run again it changes nothing; the nodes on PostgreSQL serve the same mail and accounts', async () => {
  const { dir } = await seededDataDir('copy.test', ['a', 'b']);
  const node = tempDir();
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    const store = openDirectoryStore(testConfig(dir));
    await store.addTenant('acme', 'ACME');
    await store.addDomain('acme.test', undefined, 'acme');
    await store.addAccount({ address: 'c@acme.test', passwordHash: await testPasswordHash(), quotaBytes: 1_000_000, name: '佐藤 花子' });
    await store.setAlias('info@copy.test', ['a@copy.test', 'b@copy.test']);
    await store.addOperator('ops', await testPasswordHash());
    await store.close();

    // Mail in the mailboxes, one body big enough to live in a file of its own.
    const t = await startTestService(dir);
    const sizes = [512, 4096, 200 * 1024];
    const c = await SmtpClient.open(t.port);
    for (const [i, size] of sizes.entries()) assert.equal((await c.send('s@client.test', ['info@copy.test', 'c@acme.test'], testMessage(`copy-${i}`, size))).reply.code, 250);
    c.destroy();
    assert.ok(await queueDrained(dir, 20_000));
    const before = new Map<string, string[]>();
    for (const user of ['a@copy.test', 'b@copy.test', 'c@acme.test']) before.set(user, await readMailbox(t.pop3Port, user));
    await t.stop();

    // Mail still queued: deferred entries (more than one page of the copy and of its comparison), and a message whose body is a file of the spool.
    await seedBacklog(dir, 1100, 'sender@copy.test', (i) => `r${i}@remote.test`, () => 'remote');
    const spool = new SqliteSpool(join(dir, 'spool'), true);
    const w = await spool.begin();
    await w.write(Buffer.from(testMessage('queued-big', 300 * 1024)));
    await w.commit({ mailFrom: 'a@copy.test', recipients: ['far@remote.test'], smtputf8: false, remote: ['far@remote.test'] });
    await spool.hold((await spool.select({}, 0, 100)).filter((_, i) => i % 2 === 0));
    // And one whose body is in the spool's body log (queued, not held: a held body moves into its row).
    const logged = await spool.begin();
    await logged.write(Buffer.from(testMessage('queued-logged', 60 * 1024)));
    await logged.commit({ mailFrom: 'a@copy.test', recipients: ['log@remote.test'], smtputf8: false, remote: ['log@remote.test'] });
    await spool.close();
    assert.ok(readdirSync(join(dir, 'spool', 'messages')).length > 0, 'a spool body is a file');
    assert.ok(readdirSync(join(dir, 'spool', 'log')).length > 0, 'a spool body is in the body log');

    const copy = await hikyaku(dir, ['db', 'copy', '--to', url]);
    assert.equal(copy.code, 0, copy.stderr + copy.stdout);
    assert.match(copy.stdout, /^accounts: 3 rows here, 3 there, the same$/m);
    assert.match(copy.stdout, /^spool_entries: 1102 rows here, 1102 there, the same$/m);
    assert.match(copy.stdout, /^mail_messages: 9 rows here, 9 there, the same$/m);
    assert.match(copy.stdout, /every count and checksum matches\n$/);
    assert.match(copy.stderr, /copying mail_blobs/);

    const again = await hikyaku(dir, ['db', 'copy', '--from', dir, '--to', url]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, copy.stdout, 'a second run finds and leaves the same rows');

    // A node on PostgreSQL alone (a fresh data directory) serves what the embedded one had.
    const pop3 = await freePort();
    const env = { HIKYAKU_STORAGE_DIRECTORY: url, HIKYAKU_STORAGE_SPOOL: url, HIKYAKU_STORAGE_MAILSTORE: url, HIKYAKU_ROLES: 'pop3', HIKYAKU_POP3_PORT: String(pop3) };
    server = await spawnServer(node, env);
    const listed = await hikyaku(node, ['account', 'list', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { address: string }[]).map((a) => a.address).sort(), ['a@copy.test', 'b@copy.test', 'c@acme.test']);
    const pg = openSpool(testConfig(node, { 'storage.spool': url }));
    try {
      const stats = await pg.stats();
      assert.equal(Object.values(stats.byState).reduce((n, x) => n + x, 0), 1102);
      for (const [rcpt, name, size] of [['far@remote.test', 'queued-big', 300 * 1024], ['log@remote.test', 'queued-logged', 60 * 1024]] as const) {
        const entry = (await pg.list(2000)).find((e) => e.rcpt === rcpt)!;
        const chunks: Buffer[] = [];
        for await (const chunk of pg.openBody(entry.messageId)) chunks.push(chunk as Buffer);
        assert.ok(Buffer.concat(chunks).equals(Buffer.from(testMessage(name, size))), `the queued body of ${name} is the same bytes`);
      }
    } finally {
      await pg.close();
    }
    for (const [user, messages] of before) assert.deepEqual(await readMailbox(pop3, user), messages, `${user}'s mailbox is the same, byte for byte`);
  } finally {
    server?.kill('SIGKILL');
    removeDir(dir);
    removeDir(node);
  }
});

test('db copy refuses a target that is not PostgreSQL, with a sentence', async () => {
  const dir = tempDir();
  try {
    const r = await hikyaku(dir, ['db', 'copy', '--to', 'mysql://x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /db copy needs --to postgres:\/\//);
  } finally {
    removeDir(dir);
  }
});
