import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMailStore, openSpool } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { freePort, removeDir, seededDataDir, spawnServer, testConfig, waitFor } from '../helpers/service.js';

/**
 * The mailbox store's folder is unusable at start (here a file where the folder should be):
 * the service starts and accepts, delivery defers, and once the folder is repaired the
 * mail is delivered, without a restart.
 */
describe('mailbox store folder broken at start', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;

  before(async () => {
    ({ dir } = await seededDataDir('broken.test', ['a']));
    port = await freePort();
    writeFileSync(join(dir, 'mail'), 'not a folder');
  });

  after(() => {
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('starts, accepts, defers, and delivers once the folder is repaired', async () => {
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_HOSTNAME: 'mx.broken.test', HIKYAKU_DELIVERY_RETRY_BASE_MS: '200', HIKYAKU_DELIVERY_RETRY_MAX_MS: '500' });
    const c = await SmtpClient.open(port);
    assert.equal((await c.send('s@client.test', ['a@broken.test'], testMessage('waits', 1024))).reply.code, 250);
    await c.quit();
    const spool = openSpool(testConfig(dir));
    try {
      assert.ok(await waitFor(async () => (await spool.list(10)).some((e) => e.state === 'deferred' && e.attempts >= 2), 15_000), 'deferred while the store cannot open');
    } finally {
      await spool.close();
    }
    rmSync(join(dir, 'mail'));
    mkdirSync(join(dir, 'mail'));
    const mailStore = openMailStore(testConfig(dir));
    try {
      assert.ok(await waitFor(async () => (await mailStore.list(1)).length === 1, 30_000, 200), 'delivered after the repair');
    } finally {
      await mailStore.close();
    }
  });
});
