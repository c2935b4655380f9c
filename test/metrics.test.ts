import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { openMailStore } from '../src/wiring.js';
import { POPLIB_SESSION, SMTPLIB_SEND } from './helpers/py.js';
import { freePort, hikyaku, python, removeDir, run, seededDataDir, spawnServer, testConfig, waitFor } from './helpers/service.js';
import { seedBacklog } from './helpers/backlog.js';

/** argv: the Prometheus text on stdin → [[name, labels, value], ...] as read by the Prometheus project's own parser. */
const PARSE_METRICS = String.raw`
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
`;

type Sample = [string, Record<string, string>, number];

/** GET with curl: status, content type and body (curl's own deadline bounds the wait). */
async function curl(url: string, args: string[] = []): Promise<{ status: number; type: string; body: string }> {
  const r = await run('curl', ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code} %{content_type}', ...args, url]);
  assert.equal(r.code, 0, `curl ${url}: ${r.stderr}`);
  const cut = r.stdout.lastIndexOf('\n');
  const tail = r.stdout.slice(cut + 1);
  const space = tail.indexOf(' ');
  return { status: Number(tail.slice(0, space)), type: tail.slice(space + 1), body: r.stdout.slice(0, cut) };
}

async function scrape(url: string): Promise<Sample[]> {
  const { status, type, body } = await curl(url);
  assert.equal(status, 200);
  assert.match(type, /^text\/plain; version=0\.0\.4/);
  const r = await run('/usr/bin/python3', ['-c', PARSE_METRICS], { input: body });
  assert.equal(r.code, 0, `the Prometheus parser refused the text: ${r.stderr}`);
  return JSON.parse(r.stdout) as Sample[];
}

/** The value of the one sample named `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches one series, not ${hits.length}`);
  return hits[0]?.[2];
}

/** Sends one raw HTTP request and returns the status line of the answer. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(5000, () => s.destroy(new Error('no answer')));
    s.on('data', (d) => (got += d));
    s.on('error', reject);
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    s.end(bytes);
  });
}

describe('metrics and health listener on the real process', () => {
  let dir: string;
  let ids: Map<string, number>;
  let server: ChildProcess | undefined;
  let port: number;
  let pop3Port: number;
  let metricsPort: number;
  let portalPort: number;
  let base: string;

  before(async () => {
    ({ dir, ids } = await seededDataDir('metrics.test', ['a', 'b']));
    [port, pop3Port, metricsPort, portalPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    base = `http://127.0.0.1:${metricsPort}`;
    server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(port), HIKYAKU_POP3_PORT: String(pop3Port), HIKYAKU_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, HIKYAKU_PORTAL_PORT: String(portalPort), HIKYAKU_HOSTNAME: 'mx.metrics.test', HIKYAKU_AUTH_FAILURE_DELAY_MS: '10' });
  });

  after(() => {
    server?.kill('SIGKILL');
    removeDir(dir);
  });

  test('after traffic, /metrics reads as Prometheus text with the counts of SMTP, POP3 and the delivery thread', async () => {
    for (let i = 0; i < 5; i++) {
      const msg = `From: s@client.test\r\nTo: a@metrics.test\r\nSubject: m${i}\r\n\r\nbody ${i}\r\n`;
      const r = await python<{ code: number }>(SMTPLIB_SEND, [port, 0, 's@client.test', i < 3 ? 'a@metrics.test' : 'a@metrics.test,b@metrics.test', msg]);
      assert.equal(r.code, 250);
    }
    const refused = await python<{ code: number }>(SMTPLIB_SEND, [port, 0, 's@client.test', 'nobody@metrics.test', 'Subject: x\r\n\r\nx\r\n']);
    assert.equal(refused.code, 0, 'an unknown recipient is refused');
    const mailStore = openMailStore(testConfig(dir));
    try {
      const delivered = async () => (await mailStore.list(ids.get('a@metrics.test')!)).length + (await mailStore.list(ids.get('b@metrics.test')!)).length;
      assert.ok(await waitFor(async () => (await delivered()) === 7, 20_000, 100), 'seven deliveries');
    } finally {
      await mailStore.close();
    }
    const good = await python<{ login: string }>(POPLIB_SESSION, [pop3Port, 'plain', 'a@metrics.test', 'test-password', '[["stat"]]']);
    assert.match(good.login, /^\+OK/);
    const bad = await python<{ login: string }>(POPLIB_SESSION, [pop3Port, 'plain', 'a@metrics.test', 'wrong', '[]']);
    assert.match(bad.login, /^-ERR \[AUTH\]/);

    // The queue gauges are refreshed every few seconds; the counters at once.
    let samples: Sample[] = [];
    assert.ok(await waitFor(async () => value((samples = await scrape(`${base}/metrics`)), 'hikyaku_queue_entries', { state: 'queued' }) === 0, 15_000, 500), 'queue depth by state is served');
    assert.equal(value(samples, 'hikyaku_smtp_messages_accepted_total'), 5);
    assert.equal(value(samples, 'hikyaku_smtp_refusals_total', { code: 'ERR_RCPT_UNKNOWN' }), 1);
    // Counted in the delivery thread, merged into the main thread's scrape.
    assert.equal(value(samples, 'hikyaku_delivery_attempts_total', { outcome: 'delivered' }), 7);
    assert.equal(value(samples, 'hikyaku_mailstore_append_seconds_count'), 7);
    assert.ok(value(samples, 'hikyaku_delivery_concurrency_limit')! >= 1);
    assert.equal(value(samples, 'hikyaku_delivery_breaker_open'), 0);
    assert.equal(value(samples, 'hikyaku_auth_logins_total', { protocol: 'pop3', result: 'ok' }), 1);
    assert.equal(value(samples, 'hikyaku_auth_logins_total', { protocol: 'pop3', result: 'invalid' }), 1);
    assert.equal(value(samples, 'hikyaku_queue_oldest_age_seconds'), 0);
    assert.equal(value(samples, 'hikyaku_spool_accept_seconds_count'), 5);
    assert.equal(value(samples, 'hikyaku_mailstore_read_seconds_count', { op: 'listing' }), 1, 'one maildrop listed (the failed login lists none)');
    assert.ok(value(samples, 'hikyaku_spool_lease_seconds_count')! >= 1, 'leases timed in the delivery thread');
    // Six SMTP sessions (one greeting each), five DATA, one refused recipient; POP3's one wrong password.
    assert.equal(value(samples, 'hikyaku_smtp_replies_total', { role: 'mx', code: '220' }), 6);
    assert.equal(value(samples, 'hikyaku_smtp_replies_total', { role: 'mx', code: '354' }), 5);
    assert.equal(value(samples, 'hikyaku_smtp_replies_total', { role: 'mx', code: '550' }), 1);
    assert.equal(value(samples, 'hikyaku_pop3_replies_total', { status: '-ERR', code: 'AUTH' }), 1);
    assert.ok(value(samples, 'hikyaku_pop3_replies_total', { status: '+OK', code: '' })! >= 9);
    assert.ok(value(samples, 'hikyaku_process_resident_memory_bytes')! > 1e6, 'process figures are there');
    assert.ok(samples.every(([n]) => n.startsWith('hikyaku_')), 'every series is named hikyaku_*');
    // The portal role serves the same scrape (from loopback, portal.metricsFrom's default).
    const viaPortal = await scrape(`http://127.0.0.1:${portalPort}/metrics`);
    assert.equal(value(viaPortal, 'hikyaku_delivery_attempts_total', { outcome: 'delivered' }), 7);
    assert.equal(value(viaPortal, 'hikyaku_smtp_messages_accepted_total'), 5);
  });

  test('/healthz answers alive; /readyz is ready, goes not ready within its deadline while the store hangs, and ready again after', async () => {
    const alive = await curl(`${base}/healthz`);
    assert.equal(alive.status, 200);
    assert.equal(JSON.parse(alive.body).status, 'alive');
    const ready = await curl(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body).checks.map((c: { name: string; where: string; ok: boolean }) => [c.name, c.where, c.ok]), [['directory', 'sqlite', true], ['spool', 'sqlite', true], ['mailstore', 'sqlite', true]]);

    assert.equal((await hikyaku(dir, ['fault', 'mailstore=hang'])).code, 0);
    let report: { status: number; body: string } = { status: 0, body: '' };
    // curl gives up after 10 s: a readiness probe that hung with the store would fail here.
    assert.ok(await waitFor(async () => (report = await curl(`${base}/readyz`)).status === 503, 10_000, 200), 'not ready while the store hangs');
    const failing = JSON.parse(report.body) as { status: string; checks: { name: string; ok: boolean; error?: string }[] };
    assert.equal(failing.status, 'not ready');
    assert.deepEqual(failing.checks.filter((c) => !c.ok).map((c) => [c.name, c.error]), [['mailstore', 'no answer within 2000 ms']]);
    assert.equal((await curl(`${base}/healthz`)).status, 200, 'the process is still alive');

    assert.equal((await hikyaku(dir, ['fault', 'clear'])).code, 0);
    assert.ok(await waitFor(async () => (await curl(`${base}/readyz`)).status === 200, 10_000, 200), 'ready again after the fault');
  });

  test('other paths, methods and broken requests get a clear HTTP error, and the listener keeps serving', async () => {
    const missing = await curl(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.type, /^application\/problem\+json/);
    assert.deepEqual(Object.keys(JSON.parse(missing.body)).sort(), ['detail', 'status', 'title', 'type']);
    const post = await curl(`${base}/metrics`, ['-X', 'POST', '-D', '-']);
    assert.equal(post.status, 405);
    assert.match(post.body, /^Allow: GET, HEAD\r$/im);
    assert.equal(await rawRequest(metricsPort, 'GARBAGE\0\xff\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await rawRequest(metricsPort, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`), 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.equal(await rawRequest(metricsPort, `GET /${'%ff'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), 'HTTP/1.1 404 Not Found');
    assert.equal((await curl(`${base}/metrics?x=1`)).status, 200, 'still serving');
  });
});

describe('the queue by tenant in /metrics', () => {
  test('a backlog is counted by route, state and tenant (relayed mail for the sender\'s), and the count follows a hold', async () => {
    const { dir } = await seededDataDir('metrics.test', ['a']);
    const metricsPort = await freePort();
    let server: ChildProcess | undefined;
    try {
      // Ten for a@ here and ten relayed out from a@: both the default tenant's.
      await seedBacklog(dir, 20, 'a@metrics.test', (i) => (i < 10 ? 'a@metrics.test' : `x${i}@far.test`), (i) => (i < 10 ? 'local' : 'remote'));
      server = await spawnServer(dir, { HIKYAKU_MX_PORT: String(await freePort()), HIKYAKU_ROLES: 'mx,delivery', HIKYAKU_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, HIKYAKU_METRICS_QUEUE_BREAKDOWN_SECONDS: '1' });
      const tenant = (samples: Sample[], route: string, state: string, t = 'default') => value(samples, 'hikyaku_queue_tenant_entries', { route, state, tenant: t });
      let samples: Sample[] = [];
      assert.ok(await waitFor(async () => tenant((samples = await scrape(`http://127.0.0.1:${metricsPort}/metrics`)), 'local', 'deferred') === 10, 15_000, 250), 'counted by the delivery thread, merged into the scrape');
      assert.equal(tenant(samples, 'remote', 'deferred'), 10, 'relayed mail counts for the sender\'s tenant');
      assert.equal(tenant(samples, 'local', 'held'), undefined);
      const held = await hikyaku(dir, ['queue', 'hold', '--rcpt', '@far.test']);
      assert.equal(held.code, 0, held.stderr);
      assert.ok(await waitFor(async () => tenant((samples = await scrape(`http://127.0.0.1:${metricsPort}/metrics`)), 'remote', 'held') === 10, 15_000, 250), 'the count follows');
      assert.equal(tenant(samples, 'remote', 'deferred'), undefined, 'a series that has no entries any more is gone');
      assert.equal(tenant(samples, 'local', 'deferred'), 10);
    } finally {
      server?.kill('SIGKILL');
      removeDir(dir);
    }
  });
});
