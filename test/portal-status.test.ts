import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { FaultInjectingMailStore } from '../src/mailstore/index.js';
import { SMTPLIB_SEND } from './helpers/py.js';
import { python, queueDrained, removeDir, run, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { PortalClient, readMailbox, seedWithOperator } from './helpers/portal.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

describe('the status page and the notices customers read', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let browser: Browser;
  let ops: PortalClient;
  const base = () => `http://127.0.0.1:${t.portalPort}`;
  /** The status page as curl fetches it, in a language. */
  const page = async (lang: 'ja' | 'en') => {
    const r = await run('curl', ['-sS', '-H', `Accept-Language: ${lang}`, `${base()}/status`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** The texts of the notices mailed to an administrator (one message to many: To: undisclosed-recipients). */
  const noticeMails = async (user: string) =>
    (await readMailbox(t.pop3Port, user)).filter((m) => /^Auto-Submitted: auto-generated/m.test(m) && /^To: undisclosed-recipients:;/m.test(m)).map((m) => Buffer.from(m.split('\r\n\r\n')[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  const row = (html: string, service: string) => new RegExp(`<th scope="row">${service.replace(/[()]/g, '\\$&')}</th><td class="state (\\w+)">`).exec(html)?.[1];

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'status.delayedSeconds': 2, 'status.disruptedSeconds': 3600, 'portal.metricsFrom': '192.0.2.0/24', 'status.sampleSeconds': 1, 'portal.storeTimeoutMs': 300, 'delivery.storeTimeoutMs': 300, 'status.autoIncidents': 'publish', 'status.incidentAfterSeconds': 2, 'status.incidentMail': true }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    ops = await seedWithOperator(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await t.stop();
    removeDir(dir);
  });

  test('notices: an operator publishes, revises and closes them; customers see those for everyone before login, their company\'s after', async () => {
    const admin = new PortalClient(base());
    await admin.login('admin@a.test');
    const forbidden = await admin.call('POST', '/api/v1/notices', { kind: 'incident', title: 'x', body: '', services: [], startsAt: new Date().toISOString() });
    assert.equal(forbidden.status, 403);
    const all = await ops.call('POST', '/api/v1/notices', { kind: 'maintenance', title: 'Storage upgrade', body: 'Mail may arrive late for an hour.', services: ['sending', 'mailboxes'], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(all.status, 201, all.text);
    const beta = await ops.call('POST', '/api/v1/notices', { kind: 'incident', title: 'Beta only', body: 'Your forwarding is slow.', services: ['sending'], tenants: ['beta'], startsAt: new Date().toISOString(), mailAdmins: true });
    assert.equal(beta.status, 201);
    assert.equal(beta.body.mailedTo, 1, 'mailed to beta\'s one administrator, not its users');
    assert.ok(await waitFor(async () => (await noticeMails('admin@b.test')).some((m) => m.includes('Your forwarding is slow.')), 15_000, 250), 'admin@b.test got it');
    assert.deepEqual(await noticeMails('admin@a.test'), [], 'acme\'s administrator did not');
    assert.equal((await ops.call('POST', '/api/v1/notices', { kind: 'incident', title: 'x', body: '', services: [], tenants: ['nobody'], startsAt: new Date().toISOString() })).status, 400);
    const current = await new PortalClient(base()).call('GET', '/api/v1/notices/current');
    assert.deepEqual(current.body.items.map((n: { title: string }) => n.title), ['Storage upgrade'], 'before login: only what concerns everyone');
    assert.ok(current.body.items.every((n: object) => !('author' in n) && !('tenants' in n)), 'no author or tenant list shown');
    assert.deepEqual((await admin.call('GET', '/api/v1/me/notices')).body.items.map((n: { title: string }) => n.title), ['Storage upgrade']);
    const b = new PortalClient(base());
    await b.login('admin@b.test');
    assert.deepEqual((await b.call('GET', '/api/v1/me/notices')).body.items.map((n: { title: string }) => n.title).sort(), ['Beta only', 'Storage upgrade']);
    const revised = await ops.call('PUT', `/api/v1/notices/${all.body.id}`, { kind: 'maintenance', title: 'Storage upgrade', body: 'Mail may arrive late for two hours.', services: ['sending', 'mailboxes'], startsAt: all.body.startsAt, endsAt: new Date(Date.now() + 7_200_000).toISOString() });
    assert.equal(revised.body.revision, 1);
    assert.equal((await ops.call('POST', `/api/v1/notices/${beta.body.id}/close`)).body.closedAt !== null, true);
    assert.deepEqual((await b.call('GET', '/api/v1/me/notices')).body.items.map((n: { title: string }) => n.title), ['Storage upgrade'], 'a closed notice is no longer current');
    const html = await page('en');
    assert.match(html, /Storage upgrade <span class="rev">\(updated /, 'the revision is marked on the status page');
    assert.doesNotMatch(html, /Beta only/, 'a tenant\'s notice is not public');
    const metrics = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${base()}/metrics`]);
    assert.equal(metrics.stdout, '404', 'GET /metrics only for the networks in portal.metricsFrom');
  });

  test('the store fails: the status page says reading is disrupted and sending delayed while mail waits, an automatic incident with the figures shows there and on the login page and is mailed to administrators; all normal again once it drained, the incident saying recovered', async () => {
    let html = await page('ja');
    assert.equal(row(html, 'メールの閲覧（POP3/IMAP）'), 'ok');
    assert.match(html, /<html lang="ja">/);
    faulty.setFault({ kind: 'fail' }, 'append');
    faulty.setFault({ kind: 'hang' }, 'reads');
    try {
      const sent = await python<{ code: number }>(SMTPLIB_SEND, [t.port, 0, 's@client.test', 'user1@a.test', 'Subject: waits\r\n\r\nwaits\r\n']);
      assert.equal(sent.code, 250, 'receiving goes on');
      assert.ok(await waitFor(async () => row(await page('en'), 'Delivering and sending mail') === 'degraded', 20_000, 500), 'sending shows delayed');
      html = await page('en');
      assert.equal(row(html, 'Reading mail (POP3/IMAP)'), 'disrupted');
      assert.equal(row(html, 'Receiving mail'), 'ok');
      // The message sent, and the mail to administrators of an incident that may already have opened (reads hang): that mail waits too.
      const waiting = Number(/(\d+) message\(s\) waiting; the oldest for \d+ min\./.exec(html)?.[1]);
      assert.ok(waiting >= 1, `the queue's figures are on the page: ${waiting} waiting`);
      // The recipient sees it in the member site.
      const user = new PortalClient(base());
      await user.login('user1@a.test');
      assert.ok(await waitFor(async () => (await user.call('GET', '/api/v1/me')).body.waiting?.count === 1, 10_000, 250), 'your mail is delayed: 1 message');
      const mine = await browser.newPage({ locale: 'en-US' });
      await mine.goto(base());
      await mine.getByLabel('Mail address').fill('user1@a.test');
      await mine.getByLabel('Password').fill('test-password');
      await mine.getByRole('button', { name: 'Log in' }).click();
      await mine.getByRole('status').filter({ hasText: /^1 message\(s\) for you are delayed \(the oldest arrived \d+ min ago\)\. Nothing is lost/ }).waitFor();
      await screenshot(mine, 'mail-delayed');
      await mine.close();
      const json = await new PortalClient(base()).call('GET', '/api/v1/status');
      assert.equal(json.body.services.mailboxes.state, 'disrupted');
      // Out of order for status.incidentAfterSeconds: the automatic incident, published (status.autoIncidents).
      const auto = async () => ((await new PortalClient(base()).call('GET', '/api/v1/notices/current')).body.items as { title: string; body: string; kind: string }[]).find((n) => /Reading mail disrupted/.test(n.title));
      assert.ok(await waitFor(async () => (await auto()) !== undefined, 20_000, 500), 'an automatic incident opens');
      const incident = (await auto())!;
      assert.equal(incident.kind, 'incident');
      assert.match(incident.body, /UTC, disrupted\] The mailbox storage does not answer: POP3 and IMAP logins fail for now\. .* \d+ message\(s\) waiting; the oldest for \d+ min\./);
      assert.match(incident.body, /メールボックスの保存領域が応答しないため/);
      assert.match(await page('en'), /メールの閲覧の障害 \/ Reading mail disrupted/, 'on the status page');
      const login = await browser.newPage({ locale: 'en-US' });
      await login.goto(base());
      await login.getByRole('region', { name: 'Notices' }).getByText(/Reading mail disrupted/).waitFor();
      await screenshot(login, 'login-incident');
      await login.close();
      const status = () => new PortalClient(base()).call('GET', '/api/v1/status');
      assert.ok(await waitFor(async () => (await status()).body.day.some((x: { waiting: number }) => x.waiting >= 1), 10_000, 500), 'the backlog plot rises');
      const shown = await browser.newPage({ locale: 'ja-JP', javaScriptEnabled: false });
      await shown.goto(`${base()}/status`);
      assert.equal(await shown.getByRole('cell', { name: '障害' }).count(), 1, 'readable with JavaScript off');
      await screenshot(shown, 'status');
      await shown.close();
    } finally {
      faulty.setFault({ kind: 'none' }, 'append');
      faulty.setFault({ kind: 'none' }, 'reads');
    }
    assert.ok(await queueDrained(dir, 30_000));
    // The page's figures are a few seconds old at most (one read of the queue serves every reload; rates per sample interval).
    assert.ok(await waitFor(async () => row((html = await page('en')), 'Delivering and sending mail') === 'ok', 15_000, 500), 'sending is normal again');
    assert.equal(row(html, 'Reading mail (POP3/IMAP)'), 'ok');
    assert.match(html, /No mail waiting\./);
    const samples = async () => (await new PortalClient(base()).call('GET', '/api/v1/status')).body.day as { waiting: number; latencySeconds: number | null }[];
    assert.ok(await waitFor(async () => (await samples()).at(-1)?.waiting === 0, 10_000, 500), 'and falls to zero after recovery');
    assert.ok((await samples()).some((x) => x.waiting >= 1), 'with the rise still in the history');
    assert.ok((await samples()).some((x) => x.latencySeconds !== null && x.latencySeconds > 0), 'the delivery time of the mail that waited is sampled');
    assert.match(await page('en'), /<figcaption>Time from arrival to delivery \(seconds, mean per interval\), last 24 hours<\/figcaption>\s*<svg /);
    assert.match(await page('en'), /<figcaption>Messages waiting, last 24 hours<\/figcaption>\s*<svg [^>]*role="img" aria-label="Messages waiting, last 24 hours: max \d+, now 0">[\s\S]*?<polyline points="[\d., ]+"/);
    const user = new PortalClient(base());
    await user.login('user1@a.test');
    assert.deepEqual((await user.call('GET', '/api/v1/me')).body.waiting, { count: 0, oldestSeconds: 0 });
    // Recovered: the automatic incidents say so and are closed.
    const autos = async () => ((await ops.call('GET', '/api/v1/notices')).body.items as { autoService: string | null; closedAt: string | null; body: string }[]).filter((n) => n.autoService !== null);
    assert.ok(await waitFor(async () => (await autos()).every((n) => n.closedAt !== null), 20_000, 500), 'closed after recovery');
    const reading = (await autos()).find((n) => n.autoService === 'mailboxes')!;
    assert.match(reading.body, /Recovered at \d\d:\d\d UTC, after (less than a minute|about \d+ min)\. \d+ message\(s\) waiting/);
    assert.match(reading.body, /に復旧しました/);
    assert.ok(!(await new PortalClient(base()).call('GET', '/api/v1/notices/current')).body.items.some((n: { title: string }) => /disrupted/.test(n.title)), 'no longer current');
    // status.incidentMail: the administrators of every tenant got the incident when it opened.
    const text = (await noticeMails('admin@b.test')).find((m) => /The mailbox storage does not answer|Mail is waiting longer than usual/.test(m));
    assert.ok(text, 'admin@b.test got the incident by mail');
    assert.match(text, new RegExp(`Current status: http://[^/]+:${t.config['portal.port']}/status`));
  });

  test('the login page shows the current notice; an operator writes one in the Notices page', async () => {
    const p = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(p);
    await p.goto(base());
    await p.getByRole('region', { name: 'Notices' }).getByText('Storage upgrade').waitFor();
    await screenshot(p, 'login-notice');
    await p.getByLabel('Mail address').fill('ops');
    await p.getByLabel('Password').fill('test-password');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByRole('link', { name: 'Notices' }).click();
    const form = p.getByRole('form', { name: 'Write a notice' });
    await form.getByLabel('Kind').selectOption('incident');
    await form.getByLabel('Title').fill('Delayed delivery');
    await form.getByLabel('Text').fill('We are working on it.');
    await form.getByRole('button', { name: 'Publish' }).click();
    await p.getByRole('status').filter({ hasText: 'Notice published.' }).waitFor();
    const current = await new PortalClient(base()).call('GET', '/api/v1/notices/current');
    assert.ok(current.body.items.some((n: { title: string; kind: string }) => n.title === 'Delayed delivery' && n.kind === 'incident'));
    assert.deepEqual(errors, []);
    await p.close();
  });
});
