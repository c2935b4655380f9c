import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openDirectoryStore, openMailStore } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { fillUp, mountSmallFs } from '../helpers/small-fs.js';
import { freePort, removeDir, seedDirectory, spawnServer, tempDir, testConfig, waitFor } from '../helpers/service.js';

/**
 * The disk fills up: under the spool (a message larger than the room left gets 452 4.3.1
 * after its data, and the session goes on), and under the mailbox store (delivery defers
 * and delivers once there is room again). Each store on a small tmpfs of its own.
 */
describe('disk full under the spool and under the mailbox store', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const mounts: { unmount(): void }[] = [];
  let skip: string | undefined;

  before(async () => {
    dir = tempDir();
    port = await freePort();
    for (const [sub, kb] of [['spool', 4096], ['mail', 4096]] as const) {
      const m = mountSmallFs(join(dir, sub), kb);
      if ('skip' in m) skip = m.skip;
      else mounts.push(m);
    }
    if (skip) return;
    const store = openDirectoryStore(testConfig(dir));
    await seedDirectory(store, 'full.test', ['a']);
    await store.close();
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_HOSTNAME: 'mx.full.test', HIKYAKU_DELIVERY_RETRY_BASE_MS: '200', HIKYAKU_DELIVERY_RETRY_MAX_MS: '1000' });
  });

  after(() => {
    server?.kill('SIGKILL');
    for (const m of mounts) m.unmount();
    removeDir(dir);
  });

  test('spool full during DATA: 452 4.3.1 after the data, the connection stays, the next message fits', async (t) => {
    if (skip) return t.skip(skip);
    const c = await SmtpClient.open(port);
    const big = await c.send('s@client.test', ['a@full.test'], testMessage('too-big', 6 * 1024 * 1024));
    assert.equal(big.reply.code, 452, big.reply.text);
    assert.match(big.reply.text, /^4\.3\.1 /);
    const small = await c.send('s@client.test', ['a@full.test'], testMessage('fits', 2048));
    assert.equal(small.reply.code, 250, 'the same session accepts the next message');
    await c.quit();
  });

  test('mailbox store full: delivery waits, then delivers once there is room', async (t) => {
    if (skip) return t.skip(skip);
    const dirStore = openDirectoryStore(testConfig(dir));
    const id = (await dirStore.listAccounts())[0]!.id;
    await dirStore.close();
    const mailStore = openMailStore(testConfig(dir));
    try {
      assert.ok(await waitFor(async () => (await mailStore.list(id)).length === 1, 20_000), 'the first message is delivered');
      const free = fillUp(join(dir, 'mail', 'filler'));
      const c = await SmtpClient.open(port);
      assert.equal((await c.send('s@client.test', ['a@full.test'], testMessage('large', 300 * 1024))).reply.code, 250, 'accepted: the spool has room');
      await c.quit();
      assert.ok(await waitFor(async () => (await openSpoolList(dir)).some((e) => e.state === 'deferred'), 20_000), 'delivery deferred on ENOSPC');
      free();
      assert.ok(await waitFor(async () => (await mailStore.list(id)).length === 2, 30_000, 200), 'delivered once there is room');
    } finally {
      await mailStore.close();
    }
  });
});

async function openSpoolList(dir: string) {
  const { openSpool } = await import('../../src/wiring.js');
  const spool = openSpool(testConfig(dir));
  try {
    return await spool.list(100);
  } finally {
    await spool.close();
  }
}
