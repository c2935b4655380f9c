import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ThreadSupervisor } from './supervisor.js';

const fixture = new URL('../../test/fixtures/dying-thread.js', import.meta.url);
const until = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
};

test('a thread that dies is started again, and stop() does not hang on a thread that does not answer', async () => {
  const s = new ThreadSupervisor({ url: fixture, workerData: {}, restartDelayMs: 50, maxRestartDelayMs: 200, stopTimeoutMs: 300 }, pino({ level: 'silent' }));
  await s.start();
  assert.equal(s.incarnations, 1);
  s.post('die');
  assert.ok(await until(() => s.incarnations === 2, 5000), 'restarted after dying');
  s.post('die');
  assert.ok(await until(() => s.incarnations === 3, 5000), 'and again');
  // The fixture ignores 'stop': the supervisor gives up waiting and terminates it.
  await s.stop();
  assert.equal(s.running, false);
});
