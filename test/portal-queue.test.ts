import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright-core';
import { freePort, removeDir, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { PortalClient, readMailbox, seedWithOperator } from './helpers/portal.js';
import { startRemoteSmtp } from './helpers/remote-smtp.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

type Entry = { id: number; rcpt: string; state: string; sender: string; lastError: string | null };

describe('the operators\' queue view', () => {
  let dir: string;
  let t: TestService;
  let remote: Awaited<ReturnType<typeof startRemoteSmtp>>;
  let ops: PortalClient;
  let browser: Browser;
  /** The smarthost refuses every recipient until `accepting`. */
  let accepting = false;
  const base = () => `http://127.0.0.1:${t.portalPort}`;
  const submit = (user: string, to: string[], subject: string) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: t.submissionsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user, pass: 'test-password' } })
      .sendMail({ from: user, to, subject, text: 'queued for a while' });
  const entries = async (query = '') => (await ops.call('GET', `/api/v1/queue/entries${query}`)).body.items as Entry[];
  /** A queue action's NDJSON lines, parsed. */
  const act = async (action: string, body: unknown) => {
    const r = await ops.call('POST', `/api/v1/queue/${action}`, body);
    return { status: r.status, body: r.body, lines: r.status === 200 ? r.text.trim().split('\n').map((l) => JSON.parse(l)) : [] };
  };

  before(async () => {
    dir = tempDir();
    const port = await freePort();
    remote = await startRemoteSmtp('127.0.0.1', port, dir + '/remote-tls', { rcpt: () => (accepting ? undefined : '451 4.7.1 greylisted, try again later') });
    t = await startTestService(dir, { 'relay.smarthost': `127.0.0.1:${port}` });
    ops = await seedWithOperator(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await t.stop();
    await remote.close();
    removeDir(dir);
  });

  test('operators see the queue by customer and age and why it waits; hold, release, retry and delete with a DSN act on what the filter chose, each in the audit log; customers get 403', async () => {
    await submit('user2@a.test', ['x@far.test', 'y@far.test'], 'acme news');
    await submit('bob@b.test', ['z@far.test'], 'beta news');
    assert.ok(await waitFor(async () => (await entries('?state=deferred')).length === 3, 15_000), 'three relay entries deferred by the 451');

    const admin = new PortalClient(base());
    await admin.login('admin@a.test');
    for (const [method, path] of [['GET', '/api/v1/queue/summary'], ['GET', '/api/v1/queue/entries'], ['GET', '/api/v1/queue/entries/1'], ['POST', '/api/v1/queue/hold']] as const) {
      const r = await admin.call(method, path, method === 'POST' ? { all: true } : undefined);
      assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      assert.match(r.type, /^application\/problem\+json/);
    }

    const summary = (await ops.call('GET', '/api/v1/queue/summary')).body;
    assert.equal(summary.byState.deferred, 3);
    assert.deepEqual(summary.shape.map((r: { key: string; total: number }) => [r.key, r.total]), [['acme', 2], ['beta', 1]], 'relayed mail counts for the sender\'s company');
    assert.equal(summary.shape[0].counts[0], 2, 'younger than 5 minutes');
    assert.match(summary.reasons[0].error, /451 4\.7\.1 greylisted/);
    assert.equal(summary.reasons[0].count, 3);
    const byDomain = (await ops.call('GET', '/api/v1/queue/summary?by=recipient')).body;
    assert.deepEqual(byDomain.shape.map((r: { key: string; total: number }) => [r.key, r.total]), [['far.test', 3]]);

    const beta = await entries('?tenant=beta');
    assert.deepEqual(beta.map((e) => e.rcpt), ['z@far.test']);
    const shown = (await ops.call('GET', `/api/v1/queue/entries/${beta[0]!.id}`)).body;
    assert.equal(shown.sender, 'bob@b.test');
    assert.equal(shown.headers.Subject, 'beta news');
    assert.ok(shown.attempts.length >= 1 && /451/.test(shown.attempts[0].error), 'every failed attempt is shown');

    const held = await act('hold', { tenant: 'beta' });
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.deepEqual(held.lines.at(-1), { result: { matched: 1, changed: 1 } });
    assert.deepEqual((await entries('?state=held')).map((e) => e.rcpt), ['z@far.test']);

    const unconfirmed = await act('delete', { rcpt: 'y@far.test' });
    assert.equal(unconfirmed.status, 400);
    assert.equal(unconfirmed.body.matched, 1);
    assert.match(unconfirmed.body.detail, /1 entries match; nothing was deleted/);
    const deleted = await act('delete', { rcpt: 'y@far.test', dsn: true, confirm: true });
    assert.deepEqual(deleted.lines.at(-1), { result: { matched: 1, changed: 1 } });
    assert.ok(await waitFor(async () => (await readMailbox(t.pop3Port, 'user2@a.test')).some((m) => /deleted from the queue by the administrators/.test(m) && /y@far\.test/.test(m)), 15_000), 'the sender got a DSN naming the deleted recipient');

    accepting = true;
    const retried = await act('retry', { tenant: 'acme' });
    assert.deepEqual(retried.lines.at(-1), { result: { matched: 1, changed: 1 } });
    assert.ok(await waitFor(() => remote.received.some((r) => r.rcpts.includes('x@far.test')), 15_000), 'retry now sends at once (the next retry was minutes away)');
    assert.equal((await entries('?state=held')).length, 1, 'a held entry is not sent');
    const released = await act('release', { ids: [beta[0]!.id] });
    assert.deepEqual(released.lines.at(-1), { result: { matched: 1, changed: 1 } });
    assert.ok(await waitFor(async () => (await entries()).length === 0, 15_000), 'the queue drained');
    assert.deepEqual(remote.received.flatMap((r) => r.rcpts).sort(), ['x@far.test', 'z@far.test'], 'the deleted recipient never got it');

    const audit = (await ops.call('GET', '/api/v1/audit?limit=50')).body.items.map((e: { action: string }) => e.action);
    for (const action of ['queue.hold', 'queue.delete', 'queue.retry', 'queue.release']) assert.ok(audit.includes(action), `${action} in the audit log`);
  });

  test('bad requests to the queue get a problem that says what is wrong, and change nothing', async () => {
    for (const [action, body, said] of [
      ['hold', {}, /Choose the entries/],
      ['retry', { state: 'held' }, /Only deferred entries can be changed by retry/],
      ['hold', { sender: 'not an address' }, /sender/],
      ['hold', { tenant: 'nobody' }, /No such tenant: nobody/],
      ['hold', { ids: [] }, /ids/],
      ['hold', { olderMinutes: -1 }, /olderMinutes/],
      ['explode', { all: true }, /action/],
      ['hold', '{"all": tru', /JSON|body/i],
    ] as const) {
      const r = await ops.call('POST', `/api/v1/queue/${action}`, body);
      assert.equal(r.status, 400, `${action} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.match(r.type, /^application\/problem\+json/);
      assert.match(r.body.detail, said);
    }
    assert.equal((await ops.call('GET', '/api/v1/queue/entries/999999')).status, 404);
    assert.equal((await ops.call('GET', '/api/v1/queue/entries?limit=100000')).status, 400);
  });

  test('in the browser: an operator holds, releases, retries and deletes with a DSN from the queue page, and reads one message with its attempts', async () => {
    accepting = false;
    await submit('user1@a.test', ['p@far.test', 'q@far.test'], 'page test');
    assert.ok(await waitFor(async () => (await entries('?state=deferred')).length === 2, 15_000));
    const [p, q] = await entries();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${base()}/login`);
    await page.getByLabel('Mail address').fill('ops');
    await page.getByLabel('Password').fill('test-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('heading', { name: 'Mail queue' }).waitFor();
    const shape = page.getByRole('table', { name: 'Waiting mail by age' });
    await shape.getByRole('row', { name: /acme/ }).waitFor();
    assert.match(await shape.getByRole('row', { name: /acme/ }).innerText(), /acme\s+2\s+2/);
    assert.match(await page.getByRole('table', { name: 'Why mail is deferred' }).innerText(), /451 4\.7\.1 greylisted/);
    await screenshot(page, 'queue');

    const rowOf = (e: Entry) => page.getByRole('table', { name: 'Entries' }).getByRole('row', { name: new RegExp(`\\b${e.rcpt}\\b`) });
    await page.getByLabel(`Select entry ${p!.id}`).check();
    await page.getByRole('button', { name: 'Hold' }).click();
    await page.getByText('Entries held: 1.').waitFor();
    // The list reloads after the notice shows: wait for the row to say so.
    await rowOf(p!).filter({ hasText: 'held' }).waitFor();
    assert.match(await rowOf(p!).innerText(), /held/);

    await page.getByLabel(`Select entry ${p!.id}`).check();
    await page.getByRole('button', { name: 'Release' }).click();
    await page.getByText('Entries released: 1.').waitFor();

    await page.getByRole('button', { name: String(q!.id), exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Queued message (entry ${q!.id})` });
    await dialog.getByText('page test').waitFor();
    assert.match(await dialog.getByRole('table', { name: 'Failed attempts' }).innerText(), /451 4\.7\.1/);
    await screenshot(page, 'queue-message');
    await dialog.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('textbox', { name: 'Recipient' }).fill('q@far.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table', { name: 'Entries' }).getByRole('row').nth(1).waitFor();
    assert.equal(await page.getByRole('table', { name: 'Entries' }).getByRole('row').count(), 2, 'the header and q@ only');
    await page.getByLabel('all matching the filter').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete the chosen entries (1)?' });
    await confirm.getByLabel(/Tell each sender/).check();
    await screenshot(page, 'queue-delete');
    await confirm.getByRole('button', { name: 'Delete (1)' }).click();
    await page.getByText('Entries deleted: 1.').waitFor();
    assert.ok(await waitFor(async () => (await readMailbox(t.pop3Port, 'user1@a.test')).some((m) => /deleted from the queue/.test(m) && /q@far\.test/.test(m)), 15_000), 'user1 got the DSN');

    accepting = true;
    await page.getByRole('textbox', { name: 'Recipient' }).fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel(`Select entry ${p!.id}`).check();
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.getByText('Entries being retried now: 1.').waitFor();
    assert.ok(await waitFor(() => remote.received.some((r) => r.rcpts.includes('p@far.test')), 15_000), 'retried from the page and sent');
    assert.ok(!remote.received.some((r) => r.rcpts.includes('q@far.test')));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
