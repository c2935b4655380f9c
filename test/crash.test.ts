import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDirectoryStore, openMailStore } from '../src/wiring.js';
import { testMessage } from './helpers/smtp-client.js';
import { loadWithKills } from './helpers/crash-load.js';
import { dropSchemas, pgStoreUrl } from './helpers/postgres.js';
import { freePort, mailboxMessages, queueDrained, removeDir, seedDirectory, spawnServer, tempDir, testConfig } from './helpers/service.js';

const KILLS = 20;
const SENDERS = 8;


// The same campaign on each backend: the embedded one, and the spool and mailboxes on PostgreSQL as nodes would share them.
const SPOOLS = [{ name: 'embedded stores', url: undefined }, { name: 'spool and mailboxes on PostgreSQL', ...pgStoreUrl() }];

for (const spoolBackend of SPOOLS)
describe(`crash safety: SIGKILL at random moments under load, ${spoolBackend.name}`, () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const accounts = ['a', 'b', 'c', 'd'].map((l) => `${l}@crash.test`);

  before(async () => {
    dir = tempDir();
    port = await freePort();
    const store = openDirectoryStore(testConfig(dir));
    await seedDirectory(store, 'crash.test', ['a', 'b', 'c', 'd']);
    await store.close();
  });

  after(async () => {
    server?.kill('SIGKILL');
    removeDir(dir);
    if ('schema' in spoolBackend) await dropSchemas([spoolBackend.schema]);
  });

  test(`${KILLS} kills; every message that got 250 is in its mailbox exactly once`, async () => {
    // Only the roles under test: every other listener would take a port another test's restart may want back.
    const env = { HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_MX_PORT: String(port), HIKYAKU_HOSTNAME: 'mx.crash.test', HIKYAKU_DELIVERY_RETRY_BASE_MS: '50', HIKYAKU_DELIVERY_POLL_MS: '50', ...(spoolBackend.url ? { HIKYAKU_STORAGE_SPOOL: spoolBackend.url, HIKYAKU_STORAGE_MAILSTORE: spoolBackend.url } : {}) };
    const stores = spoolBackend.url ? { 'storage.spool': spoolBackend.url, 'storage.mailstore': spoolBackend.url } : {};
    const load = await loadWithKills({
      port,
      senders: SENDERS,
      kills: KILLS,
      killEveryMs: 500,
      spawn: () => spawnServer(dir, env),
      next: (n, seq) => ({
        id: `m${n}-${seq}`,
        from: 's@client.test',
        // Every fifth message goes to two recipients, so a message has several queue entries.
        to: seq % 5 === 0 ? [accounts[seq % 4]!, accounts[(seq + 1) % 4]!] : [accounts[seq % 4]!],
        // Bodies of each place the spool keeps them: in the row, in the body log (every third), in a file of their own (every 25th).
        body: testMessage(`m${n}-${seq}`, seq % 25 === 0 ? 200 * 1024 : seq % 3 === 0 ? 40 * 1024 : 1024),
      }),
    });
    server = load.server;
    const { accepted, inDoubt, attempted } = load;
    assert.ok(accepted.size > KILLS * 10, `enough load: ${accepted.size} messages accepted`);

    // Let the last incarnation drain the queue, then stop it gracefully (exit 0 on SIGTERM).
    const mailStore = openMailStore(testConfig(dir, stores));
    const dirStore = openDirectoryStore(testConfig(dir));
    const ids = new Map((await dirStore.listAccounts()).map((a) => [a.address, a.id]));
    await dirStore.close();
    // In-doubt messages may be delivered too: only an empty queue says every delivery is done.
    assert.ok(await queueDrained(dir, 60_000, stores), 'queue drained');
    const exit = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    assert.equal(await exit, 0, 'graceful shutdown exits 0');
    server = undefined;

    const found = new Map<string, number>();
    for (const [address, id] of ids) {
      for (const m of await mailboxMessages(mailStore, id)) {
        const tid = /X-Test-Id: (\S+)/.exec(m)![1]!;
        const key = `${tid} ${address}`;
        found.set(key, (found.get(key) ?? 0) + 1);
      }
    }
    await mailStore.close();
    for (const [tid, to] of accepted) {
      for (const address of to) assert.equal(found.get(`${tid} ${address}`), 1, `${tid} in ${address} exactly once`);
    }
    let doubtDelivered = 0;
    for (const [key, n] of found) {
      const tid = key.split(' ')[0]!;
      assert.equal(n, 1, `${key} at most once`);
      assert.ok(accepted.has(tid) || inDoubt.has(tid), `${tid} was delivered but never got 250 nor was in doubt`);
      if (!accepted.has(tid)) doubtDelivered++;
    }
    console.log(`crash test: ${accepted.size} accepted, ${inDoubt.size} in doubt at a kill (${doubtDelivered} of those delivered), ${attempted.size} attempted`);
  });
});
