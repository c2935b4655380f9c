import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openDirectoryStore, openMailStore } from '../../src/wiring.js';
import { testMessage } from '../helpers/smtp-client.js';
import { Pop3Client } from '../helpers/pop3-client.js';
import { loadWithKills } from '../helpers/crash-load.js';
import { freePort, mailboxMessages, queueDrained, removeDir, seedDirectory, seededDataDir, spawnServer, tempDir, testConfig, waitFor } from '../helpers/service.js';

const KILLS = 4;
const ACCOUNTS = ['a', 'b'].map((l) => `${l}@windows.test`);

/**
 * SIGKILL exactly in each crash window (the shipped crash points, `fault.crashAt`), under
 * load, several times; then a clean restart drains the queue. Every message that got a
 * 250 is in its mailbox exactly once; one whose reply was lost in a crash at most once.
 */
describe('SIGKILL in each crash window', () => {
  for (const point of ['data', 'spool-commit', 'after-append']) {
    test(`${point}: ${KILLS} crashes there; every 250 in its mailbox exactly once`, async () => {
      const dir = tempDir();
      const port = await freePort();
      let server: ChildProcess | undefined;
      try {
        const store = openDirectoryStore(testConfig(dir));
        const ids = await seedDirectory(store, 'windows.test', ['a', 'b']);
        await store.close();
        const env = { HIKYAKU_MX_PORT: String(port), HIKYAKU_HOSTNAME: 'mx.windows.test', HIKYAKU_DELIVERY_RETRY_BASE_MS: '50', HIKYAKU_DELIVERY_POLL_MS: '50' };
        const load = await loadWithKills({
          port,
          senders: 4,
          kills: KILLS,
          killEveryMs: 1000,
          selfKilling: true,
          spawn: () => spawnServer(dir, { ...env, HIKYAKU_FAULT_CRASH_AT: `${point}:0.05` }),
          next: (n, seq) => ({ id: `w${n}-${seq}`, from: 's@client.test', to: seq % 3 === 0 ? ACCOUNTS : [ACCOUNTS[seq % 2]!], body: testMessage(`w${n}-${seq}`, seq % 10 === 0 ? 160 * 1024 : 1024) }),
        });
        load.server.kill('SIGKILL');
        server = await spawnServer(dir, env);
        const mailStore = openMailStore(testConfig(dir));
        try {
          // Messages whose reply was lost are delivered too, so a count of mail reached is no sign of a drained queue.
          assert.ok(await queueDrained(dir, 60_000), 'the queue drained');
          const found = new Map<string, number>();
          for (const address of ACCOUNTS) {
            for (const m of await mailboxMessages(mailStore, ids.get(address)!)) {
              const key = `${/X-Test-Id: (\S+)/.exec(m)![1]!} ${address}`;
              found.set(key, (found.get(key) ?? 0) + 1);
            }
          }
          for (const [id, to] of load.accepted) for (const address of to) assert.equal(found.get(`${id} ${address}`), 1, `${id} in ${address} exactly once`);
          for (const [key, n] of found) {
            const id = key.split(' ')[0]!;
            assert.equal(n, 1, `${key} at most once`);
            assert.ok(load.accepted.has(id) || load.inDoubt.has(id), `${id} delivered without a 250 and without a lost reply`);
          }
          console.log(`crash window ${point}: ${KILLS} crashes, ${load.accepted.size} accepted, ${load.inDoubt.size} in doubt, lost 0, duplicated 0`);
        } finally {
          await mailStore.close();
        }
      } finally {
        server?.kill('SIGKILL');
        removeDir(dir);
      }
    });
  }
});

/**
 * One account (a@windows.test, password test-password) in a fresh data dir, fixed MX and
 * POP3 ports and the environment to start the server on them; whatever server the suite
 * leaves in `server` is killed and the dir removed after it.
 */
function oneAccountServer() {
  const f = { dir: '', port: 0, pop3Port: 0, env: {} as NodeJS.ProcessEnv, server: undefined as ChildProcess | undefined };
  before(async () => {
    ({ dir: f.dir } = await seededDataDir('windows.test', ['a']));
    [f.port, f.pop3Port] = [await freePort(), await freePort()];
    f.env = { HIKYAKU_MX_PORT: String(f.port), HIKYAKU_POP3_PORT: String(f.pop3Port), HIKYAKU_HOSTNAME: 'mx.windows.test', HIKYAKU_DELIVERY_POLL_MS: '50' };
  });
  after(() => {
    f.server?.kill('SIGKILL');
    removeDir(f.dir);
  });
  return f;
}

describe('SIGKILL between an expunge and the removal of its files', () => {
  const f = oneAccountServer();

  test('the deleted messages stay deleted, the kept one reads back whole', async () => {
    f.server = await spawnServer(f.dir, { ...f.env, HIKYAKU_FAULT_CRASH_AT: 'expunge:1' });
    const { SmtpClient } = await import('../helpers/smtp-client.js');
    const c = await SmtpClient.open(f.port);
    for (const id of ['big-1', 'big-2', 'keep']) assert.equal((await c.send('s@client.test', ['a@windows.test'], testMessage(id, 200 * 1024))).reply.code, 250);
    await c.quit();
    const mailStore = openMailStore(testConfig(f.dir));
    try {
      assert.ok(await waitFor(async () => (await mailStore.list(1)).length === 3, 20_000, 100));
      const pop = await Pop3Client.open(f.pop3Port);
      await pop.login('a@windows.test', 'test-password');
      // Delivery runs concurrently, so UIDs need not follow the sending order: find the big ones.
      const order = (await mailboxMessages(mailStore, 1)).map((m) => /X-Test-Id: (\S+)/.exec(m)![1]!);
      for (const id of ['big-1', 'big-2']) assert.match((await pop.command(`DELE ${order.indexOf(id) + 1}`)) as string, /^\+OK/);
      const exited = new Promise<string | null>((r) => f.server!.once('exit', (_c, signal) => r(signal)));
      const quit = (await pop.command('QUIT')) as string;
      assert.equal(await exited, 'SIGKILL', `the process died in the window (QUIT answered ${JSON.stringify(quit)})`);
      f.server = await spawnServer(f.dir, f.env);
      const left = await mailboxMessages(mailStore, 1);
      assert.equal(left.length, 1, 'the expunge was committed before the crash');
      assert.match(left[0]!, /X-Test-Id: keep/);
      assert.equal(left[0]!.length > 200 * 1024, true, 'its body is whole');
    } finally {
      await mailStore.close();
    }
  });
});

describe('SIGKILL between an append and its queue entry\'s completion, then the user deletes the message', () => {
  const f = oneAccountServer();

  test('the retried entry does not bring the deleted message back', async () => {
    f.server = await spawnServer(f.dir, { ...f.env, HIKYAKU_FAULT_CRASH_AT: 'after-append:1' });
    const exited = new Promise<string | null>((r) => f.server!.once('exit', (_c, signal) => r(signal)));
    const { SmtpClient } = await import('../helpers/smtp-client.js');
    const c = await SmtpClient.open(f.port);
    assert.equal((await c.send('s@client.test', ['a@windows.test'], testMessage('read-once', 2048))).reply.code, 250);
    assert.equal(await exited, 'SIGKILL', 'the process died after the append, before completing the entry');
    c.destroy();

    // Only POP3 runs: the user reads and deletes the message while its entry is still queued.
    f.server = await spawnServer(f.dir, f.env, [], ['--roles', 'pop3']);
    const pop = await Pop3Client.open(f.pop3Port);
    await pop.login('a@windows.test', 'test-password');
    assert.match((await pop.command('STAT')) as string, /^\+OK 1 /, 'the appended message is there');
    assert.match((await pop.command('DELE 1')) as string, /^\+OK/);
    assert.match((await pop.command('QUIT')) as string, /^\+OK/);
    f.server.kill('SIGKILL');

    // Delivery runs again: the entry is retried and settles without appending a second time.
    f.server = await spawnServer(f.dir, f.env);
    assert.ok(await queueDrained(f.dir, 30_000), 'the retried entry left the queue');
    const mailStore = openMailStore(testConfig(f.dir));
    try {
      assert.deepEqual(await mailboxMessages(mailStore, 1), [], 'the deleted message did not come back');
    } finally {
      await mailStore.close();
    }
  });
});
