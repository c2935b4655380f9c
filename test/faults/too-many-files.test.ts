import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { openMailStore } from '../../src/wiring.js';
import { SmtpClient, testMessage } from '../helpers/smtp-client.js';
import { freePort, removeDir, seededDataDir, spawnServer, testConfig, waitFor } from '../helpers/service.js';

// Enough for the process to start (loading its modules, among them the PostgreSQL driver and
// Kysely, reads many files at once), few enough for idle connections to use them all up.
const LIMIT = 400;

/**
 * The process runs out of file descriptors (prlimit, idle connections holding them): a
 * large message cannot be spooled then (a temporary error), and once descriptors are free
 * again large messages are accepted and delivered, without a restart.
 */
describe('too many open files', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const idle: Socket[] = [];

  before(async () => {
    ({ dir } = await seededDataDir('files.test', ['a']));
    port = await freePort();
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_HOSTNAME: 'mx.files.test', HIKYAKU_DELIVERY_RETRY_BASE_MS: '200', HIKYAKU_DELIVERY_RETRY_MAX_MS: '500' }, [], [], ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--']);
  });

  after(() => {
    for (const s of idle) s.destroy();
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('EMFILE while spooling a large message is temporary; large messages work again once descriptors are free', async () => {
    // One connection first, then use up the descriptors with idle connections.
    const c = await SmtpClient.open(port);
    for (let i = 0; i < LIMIT + 20; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const during = await c.send('s@client.test', ['a@files.test'], testMessage('while-full', 300 * 1024));
    assert.ok(during.reply.code === 0 || (during.reply.code >= 400 && during.reply.code < 500), `a temporary failure or a dropped connection, never a 5xx: ${during.reply.code} ${during.reply.text}`);
    c.destroy();
    for (const s of idle.splice(0)) s.destroy();
    let accepted = 0;
    assert.ok(
      await waitFor(async () => {
        const again = await SmtpClient.open(port).catch(() => undefined);
        if (!again) return false;
        const r = await again.send('s@client.test', ['a@files.test'], testMessage(`after-${accepted}`, 300 * 1024));
        await again.quit();
        if (r.reply.code === 250) accepted++;
        return accepted === 2;
      }, 20_000, 250),
      'large messages accepted again',
    );
    const mailStore = openMailStore(testConfig(dir));
    try {
      assert.ok(await waitFor(async () => (await mailStore.list(1)).length >= 2, 30_000, 200), 'and delivered');
    } finally {
      await mailStore.close();
    }
  });
});
