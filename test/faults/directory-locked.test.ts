import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openDirectoryStore, openMailStore } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { Pop3Client } from '../helpers/pop3-client.js';
import { SqliteLock } from '../helpers/sqlite-lock.js';
import { freePort, removeDir, seededDataDir, spawnServer, testConfig, waitFor } from '../helpers/service.js';

/** MAIL, one RCPT and (if accepted) the message; the RCPT reply and the final one. */
async function deliverOne(port: number, to: string, id: string): Promise<{ rcpt: string; final: number }> {
  const c = await SmtpClient.open(port);
  const r = await c.send('s@client.test', [to], testMessage(id, 512));
  await c.quit();
  return { rcpt: `${r.rcpt[0]!.code} ${r.rcpt[0]!.text}`, final: r.reply.code };
}

/**
 * The directory database cannot be read at start (another process holds an exclusive lock):
 * the service starts anyway, answers every recipient and login with a temporary error
 * (never the permanent "not hosted" a cache that knows nothing would give), and loads the
 * directory as soon as it can. A lock while running changes nothing: the cache serves.
 */
describe('directory database locked at start and while running', () => {
  let dir: string;
  let port: number;
  let pop3Port: number;
  let server: ChildProcess | undefined;
  let lock: SqliteLock | undefined;

  before(async () => {
    ({ dir } = await seededDataDir('locked.test', ['a']));
    [port, pop3Port] = [await freePort(), await freePort()];
  });

  after(async () => {
    await lock?.release();
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('locked at start: the service starts, answers 451 4.3.0 and [SYS/TEMP], then loads the directory when the lock goes', async () => {
    lock = await SqliteLock.hold(join(dir, 'directory.db'), { readers: true });
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_POP3_PORT: String(pop3Port), HIKYAKU_HOSTNAME: 'mx.locked.test', HIKYAKU_DELIVERY_POLL_MS: '50' });

    const refused = await deliverOne(port, 'a@locked.test', 'early');
    assert.match(refused.rcpt, /^451 4\.3\.0 /, 'a temporary refusal, not a bounce');
    const elsewhere = await deliverOne(port, 'x@not-hosted.test', 'early2');
    assert.match(elsewhere.rcpt, /^451 4\.3\.0 /, 'not even "not hosted" is known yet');
    const pop = await Pop3Client.open(pop3Port);
    assert.match((await pop.command('USER a@locked.test')) as string, /^\+OK/);
    assert.match((await pop.command('PASS test-password')) as string, /^-ERR \[SYS\/TEMP\] /);
    await pop.quit();

    await lock.release();
    lock = undefined;
    assert.ok(await waitFor(async () => (await deliverOne(port, 'a@locked.test', 'after')).final === 250, 15_000, 250), 'accepted once the directory loaded');
    const relay = await deliverOne(port, 'x@not-hosted.test', 'relay');
    assert.match(relay.rcpt, /^554 5\.7\.1 /, 'now the answer for a domain not hosted here is known');
  });

  test('write-locked while running: recipients are still accepted and delivered', async () => {
    // Readers cannot be locked out of a WAL database that the running service holds open;
    // a writer's lock (a stuck CLI, a backup) is what happens here.
    lock = await SqliteLock.hold(join(dir, 'directory.db'));
    const during = await deliverOne(port, 'a@locked.test', 'during');
    assert.equal(during.final, 250);
    await lock.release();
    lock = undefined;
    const mailStore = openMailStore(testConfig(dir));
    const dirStore = openDirectoryStore(testConfig(dir));
    const id = (await dirStore.listAccounts())[0]!.id;
    await dirStore.close();
    try {
      assert.ok(await waitFor(async () => (await mailStore.list(id)).length >= 2, 30_000, 200), 'both messages delivered');
    } finally {
      await mailStore.close();
    }
  });
});
