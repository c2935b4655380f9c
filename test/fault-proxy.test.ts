import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PgSpool } from '../src/backends/postgres/index.js';
import { ROOT, freePort, hikyaku, removeDir, tempDir, untilOutput } from './helpers/service.js';
import { dropSchemas, pgStoreUrl } from './helpers/postgres.js';

/** Sends `data` through host:port and returns what came back (an echo server is behind it). */
function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => s.end(data));
    s.on('data', (d: Buffer) => got.push(d));
    s.on('close', () => resolve(Buffer.concat(got)));
    s.on('error', reject);
  });
}

/** How a new connection through the proxy ends: 'open' (it stays, answered), or 'reset'/'closed' with no data. */
function tryConnect(port: number): Promise<'open' | 'reset' | 'closed'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('ping'));
    s.on('data', () => (s.destroy(), resolve('open')));
    s.on('error', () => resolve('reset'));
    s.on('close', () => resolve('closed'));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('hikyaku fault-proxy', () => {
  let echo: Server;
  let proxy: ChildProcess;
  let port: number;
  let control: string;
  const set = (method: string, body: unknown) => fetch(`${control}/`, { method, body: typeof body === 'string' ? body : JSON.stringify(body) });

  before(async () => {
    // A dropped connection resets the echo's side too: that is expected here.
    echo = createServer((s) => s.on('error', () => undefined).pipe(s));
    const echoPort = await freePort();
    await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', r));
    [port] = [await freePort()];
    const controlPort = await freePort();
    control = `http://127.0.0.1:${controlPort}`;
    proxy = spawn(process.execPath, [join(ROOT, 'bin/hikyaku.js'), 'fault-proxy', '--to', `127.0.0.1:${echoPort}`, '--listen', `127.0.0.1:${port}`, '--control', `127.0.0.1:${controlPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    await untilOutput(proxy, 'control http://', 'fault proxy');
  });
  after(async () => {
    proxy.kill('SIGTERM');
    await new Promise((r) => echo.close(r));
  });

  test('bytes pass unchanged and in order, healthy, with added latency and with a bandwidth cap', async () => {
    const data = randomBytes(300_000);
    assert.equal(sha(await roundTrip(port, data)), sha(data), 'healthy');
    assert.equal((await set('PATCH', { latencyMs: 15, bandwidthBytesPerSecond: 2_000_000 })).status, 200);
    assert.equal(sha(await roundTrip(port, data)), sha(data), 'sick but intact');
    const state = await (await fetch(`${control}/`)).json();
    assert.deepEqual(state.faults, { latencyMs: 15, bandwidthBytesPerSecond: 2_000_000, refuse: false, dropEverySeconds: 0 });
    assert.equal((await set('PUT', {})).status, 200, 'PUT sets every fault: all healthy');
    assert.deepEqual((await (await fetch(`${control}/`)).json()).faults.latencyMs, 0);
  });

  test('made healthy, the proxy sends what it was still holding at the new speed, unchanged and in order', async () => {
    // 200 kB at 5 kB/s each way would take 80 s under the old cap; healthy, it is back in moments.
    assert.equal((await set('PUT', { bandwidthBytesPerSecond: 5_000 })).status, 200);
    const data = randomBytes(200_000);
    const back = roundTrip(port, data);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await set('PUT', {})).status, 200);
    const within = await Promise.race([back, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    assert.ok(within, 'the held bytes were sent at the new speed, not the old one');
    assert.equal(sha(within), sha(data));
  });

  test('refusing resets new connections; dropping (now or every few seconds) closes open ones; healthy again, connections work', async () => {
    await set('PATCH', { refuse: true });
    assert.notEqual(await tryConnect(port), 'open');
    await set('PATCH', { refuse: false });
    const held = connect(port, '127.0.0.1');
    const ended = new Promise<string>((r) => (held.on('error', () => r('reset')), held.on('close', () => r('closed'))));
    await new Promise((r) => held.once('connect', r));
    held.write('x');
    await new Promise((r) => held.once('data', r));
    const dropped = await (await fetch(`${control}/drop`, { method: 'POST' })).json();
    assert.equal(dropped.droppedNow, 1);
    assert.ok(['reset', 'closed'].includes(await ended), 'the open connection was dropped');
    assert.equal(await tryConnect(port), 'open');
    // Dropped every second: an open connection does not last.
    await set('PATCH', { dropEverySeconds: 1 });
    const doomed = connect(port, '127.0.0.1');
    doomed.on('error', () => undefined);
    await new Promise((r) => doomed.once('close', r));
    await set('PATCH', { dropEverySeconds: 0 });
    const state = await (await fetch(`${control}/`)).json();
    assert.ok(state.refused >= 1 && state.dropped >= 1 && state.accepted >= 2, JSON.stringify(state));
  });

  test('bad control requests get a problem that says what is wrong, and change nothing', async () => {
    for (const [method, body, said] of [
      ['PATCH', { latencyMs: -1 }, /latencyMs must be a whole number from 0 to 600000/],
      ['PATCH', { latency: 5 }, /unknown setting "latency"/],
      ['PATCH', { refuse: 'yes' }, /refuse must be true or false/],
      ['PATCH', '{"latencyMs": ', /not valid JSON/],
      ['PATCH', '[1]', /JSON object/],
      ['DELETE', {}, /GET \/ reads the state/],
    ] as const) {
      const r = await set(method, body);
      assert.equal(r.status, method === 'DELETE' ? 405 : 400);
      assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
      assert.match((await r.json()).detail, said);
    }
    assert.equal((await fetch(`${control}/nothing`)).status, 404);
    assert.deepEqual((await (await fetch(`${control}/`)).json()).faults, { latencyMs: 0, bandwidthBytesPerSecond: 0, refuse: false, dropEverySeconds: 0 });
    const bad = await hikyaku(tempDir(), ['fault-proxy', '--to', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to takes HOST:PORT, got "nowhere"/);
  });
});

describe('the PostgreSQL spool behind the fault proxy', () => {
  let proxy: ChildProcess;
  let port: number;
  let control: string;
  const { url, schema } = pgStoreUrl();
  const dir = tempDir();

  before(async () => {
    port = await freePort();
    const controlPort = await freePort();
    control = `http://127.0.0.1:${controlPort}`;
    proxy = spawn(process.execPath, [join(ROOT, 'bin/hikyaku.js'), 'fault-proxy', '--to', '127.0.0.1:5432', '--listen', `127.0.0.1:${port}`, '--control', `127.0.0.1:${controlPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    await untilOutput(proxy, 'control http://', 'fault proxy');
  });
  after(async () => {
    proxy.kill('SIGTERM');
    removeDir(dir);
    await dropSchemas([schema]);
  });

  test('a dropped or refused database makes calls fail, not hang, and the pool reconnects once it is healthy', async () => {
    const spool = new PgSpool(url.replace(':5432/', `:${port}/`), { connectTimeoutMs: 1000, statementTimeoutMs: 2000 });
    try {
      const w = await spool.begin();
      await w.write(Buffer.from('Subject: through the proxy\r\n\r\nx\r\n'));
      await w.commit({ mailFrom: 's@x.test', recipients: ['a@y.test'], smtputf8: false });
      await fetch(`${control}/`, { method: 'PATCH', body: JSON.stringify({ refuse: true }) });
      await fetch(`${control}/drop`, { method: 'POST' });
      await assert.rejects(spool.stats(), 'refused: the call fails within the connect timeout');
      await fetch(`${control}/`, { method: 'PUT', body: '{}' });
      assert.equal((await spool.stats()).byState.queued, 1, 'healthy again: the committed message is there');
      await fetch(`${control}/`, { method: 'PATCH', body: JSON.stringify({ latencyMs: 5 }) });
      const [leased] = await spool.lease('w', 10, 60_000);
      assert.ok(leased && (await spool.complete(leased)), 'slow, but it works');
    } finally {
      await spool.close();
    }
  });
});
