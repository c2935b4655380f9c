import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openDirectoryStore, openMailStore } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { Pop3Client } from '../helpers/pop3-client.js';
import { SqliteLock } from '../helpers/sqlite-lock.js';
import { freePort, mailboxMessages, removeDir, seededDataDir, spawnServer, testConfig, waitFor } from '../helpers/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The night this service is built for: the mailbox store stops answering while mail keeps
 * arriving, then comes back. With the shipped delivery settings (no test-speed retries),
 * delivery must resume by itself: no restart, nothing stuck behind a circuit breaker.
 */
describe('mailbox store locked by another process, then free again (shipped delivery settings)', () => {
  let dir: string;
  let port: number;
  let pop3Port: number;
  let server: ChildProcess | undefined;
  let lock: SqliteLock | undefined;

  before(async () => {
    ({ dir } = await seededDataDir('night.test', ['a', 'b', 'c']));
    [port, pop3Port] = [await freePort(), await freePort()];
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_POP3_PORT: String(pop3Port), HIKYAKU_HOSTNAME: 'mx.night.test' });
  });

  after(async () => {
    await lock?.release();
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('mail accepted during a 30 s lock is delivered after it, without a restart', async () => {
    const config = testConfig(dir);
    const send = async (id: string, to: string) => {
      const c = await SmtpClient.open(port);
      const r = await c.send('s@client.test', [to], testMessage(id, 1024));
      await c.quit();
      return r.reply.code;
    };
    const mailStore = openMailStore(config);
    const dirStore = openDirectoryStore(config);
    const ids = new Map((await dirStore.listAccounts()).map((a) => [a.address, a.id]));
    await dirStore.close();
    const delivered = async () => {
      const found: string[] = [];
      for (const id of ids.values()) for (const m of await mailboxMessages(mailStore, id)) found.push(/X-Test-Id: (\S+)/.exec(m)![1]!);
      return found.sort();
    };
    try {
      // The store works: the first message arrives (and the mailbox database exists).
      assert.equal(await send('before', 'a@night.test'), 250);
      assert.ok(await waitFor(async () => (await delivered()).length === 1, 30_000, 200), 'delivered before the fault');

      lock = await SqliteLock.hold(join(dir, 'mail', 'mailstore.db'));
      const during = ['d1', 'd2', 'd3'];
      for (const [i, id] of during.entries()) {
        assert.equal(await send(id, `${'abc'[i]}@night.test`), 250, `${id} accepted while the store is locked`);
        await sleep(8000);
      }
      await sleep(6000);
      assert.deepEqual(await delivered(), ['before'], 'nothing delivered while the store is locked');
      // A reader can read, but deleting needs the write lock: a clear temporary error, nothing lost.
      const pop = await Pop3Client.open(pop3Port);
      await pop.login('a@night.test', 'test-password');
      assert.match((await pop.command('STAT')) as string, /^\+OK 1 /);
      assert.match((await pop.command('DELE 1')) as string, /^\+OK/);
      assert.match((await pop.command('QUIT')) as string, /^-ERR \[SYS\/TEMP\] /);
      pop.destroy();
      await lock.release();

      // The quiet minute after the outage: no new mail arrives to wake anything up.
      const ok = await waitFor(async () => (await delivered()).length === 4, 150_000, 500);
      assert.ok(ok, `every message delivered after the lock was released; found ${JSON.stringify(await delivered())}`);
      assert.deepEqual(await delivered(), ['before', ...during], 'and the message whose deletion failed is still there');
    } finally {
      await mailStore.close();
    }
  });
});
