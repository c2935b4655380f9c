import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { removeDir, run, startTestService, tempDir, testPasswordHash, hikyaku, type TestService } from './helpers/service.js';
import { PortalClient } from './helpers/portal.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

/** The current code of a base32 secret, from Debian's oathtool (a TOTP implementation that is not ours). */
async function oathtool(secret: string, offsetSteps = 0): Promise<string> {
  const r = await run('oathtool', ['--totp', '-b', ...(offsetSteps ? [`--now=@${Math.floor(Date.now() / 1000) + offsetSteps * 30}`] : []), secret]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}


/** A six-digit code that is none of the ones the server takes now (this step and the ones either side). */
async function notACode(secret: string): Promise<string> {
  const valid = new Set(await Promise.all([-1, 0, 1].map((o) => oathtool(secret, o))));
  for (let n = 0; ; n++) if (!valid.has(String(n).padStart(6, '0'))) return String(n).padStart(6, '0');
}

describe('two-step login (TOTP) for administrators and operators', () => {
  let dir: string;
  let t: TestService;
  let browser: Browser;
  const base = () => `http://127.0.0.1:${t.portalPort}`;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    await t.directoryStore.addTenant('acme', 'Acme');
    await t.directoryStore.addDomain('a.test', undefined, 'acme');
    await t.directoryStore.addAccount({ address: 'admin@a.test', passwordHash: await testPasswordHash(), quotaBytes: 0, role: 'tenant-admin' });
    await t.directoryStore.addAccount({ address: 'user@a.test', passwordHash: await testPasswordHash(), quotaBytes: 0 });
    await t.directoryStore.addOperator('ops', await testPasswordHash());
    await t.service.directory.refresh();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await t.stop();
    removeDir(dir);
  });

  test('an operator turns it on with a code from oathtool; then the login needs the password and a fresh code, a wrong or reused code is refused', async () => {
    const c = new PortalClient(base());
    assert.equal((await c.login('ops')).status, 200);
    const enrol = await c.call('POST', '/api/v1/me/totp');
    assert.equal(enrol.status, 200, enrol.text);
    assert.match(enrol.body.uri, /^otpauth:\/\/totp\/Hikyaku%20mx\.hikyaku\.test%3Aops\?secret=[A-Z2-7]{32}&/);
    assert.match(enrol.body.qr, /^data:image\/svg\+xml;base64,/);
    assert.equal((await c.call('POST', '/api/v1/me/totp/confirm', { code: await notACode(enrol.body.secret) })).status, 400);
    assert.deepEqual((await c.call('POST', '/api/v1/me/totp/confirm', { code: await oathtool(enrol.body.secret) })).body, { enabled: true });

    const bare = await new PortalClient(base()).login('ops');
    assert.equal(bare.status, 401);
    assert.equal(bare.body.code, 'ERR_TOTP_REQUIRED');
    const wrong = await new PortalClient(base()).call('POST', '/api/v1/session', { username: 'ops', password: 'test-password', totp: await notACode(enrol.body.secret) });
    assert.equal(wrong.body.code, 'ERR_TOTP_FAILED');
    const badPassword = await new PortalClient(base()).call('POST', '/api/v1/session', { username: 'ops', password: 'nope', totp: await oathtool(enrol.body.secret) });
    assert.equal(badPassword.body.code, 'ERR_AUTH_FAILED', 'the code is no way around the password');
    // The next step's code: the server takes one step of clock drift, and the current step was used to confirm.
    const code = await oathtool(enrol.body.secret, 1);
    const ok = await new PortalClient(base()).call('POST', '/api/v1/session', { username: 'ops', password: 'test-password', totp: code });
    assert.equal(ok.status, 200, ok.text);
    const replay = await new PortalClient(base()).call('POST', '/api/v1/session', { username: 'ops', password: 'test-password', totp: code });
    assert.equal(replay.body.code, 'ERR_TOTP_FAILED', 'a code works once');
    // Lost phone: another operator's CLI turns it off.
    const reset = await hikyaku(dir, ['totp', 'reset', 'operator:ops']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await new PortalClient(base()).login('ops')).status, 200);
    assert.equal((await hikyaku(dir, ['totp', 'reset', 'operator:ops'])).code, 1);
  });

  test('a user may not turn it on; an administrator does in the browser and then logs in with a code', async () => {
    const u = new PortalClient(base());
    await u.login('user@a.test');
    assert.equal((await u.call('POST', '/api/v1/me/totp')).status, 403);

    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await page.goto(`${base()}/security`);
    await page.getByLabel('Mail address').fill('admin@a.test');
    await page.getByLabel('Password').fill('test-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Turn two-step login on' }).click();
    await page.getByRole('img', { name: 'QR code for the authenticator app' }).waitFor();
    const secret = ((await page.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await screenshot(page, 'totp');
    await page.getByLabel('6-digit code').fill(await oathtool(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('status').filter({ hasText: 'Two-step login is on.' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Mail address').fill('admin@a.test');
    await page.getByLabel('Password').fill('test-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const prompt = page.getByLabel('Type the 6-digit code from your authenticator app.');
    await prompt.waitFor();
    await prompt.fill(await oathtool(secret, 1));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
