import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { POPLIB_SESSION, SMTPLIB_SEND } from './helpers/py.js';
import { python, queueDrained, removeDir, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { readMailbox, seedTenants } from './helpers/portal.js';
import { launchBrowser, screenshot, watchErrors } from './helpers/browser.js';

interface PopResult {
  login: string;
  results: (string | number[])[];
}

describe('the member site in a browser', () => {
  let dir: string;
  let t: TestService;
  let browser: Browser;
  let base: string;
  const send = (to: string, subject: string, from = 'sender@client.test') =>
    python<{ code: number }>(SMTPLIB_SEND, [t.port, 0, from, to, `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nHello from smtplib.\r\n`]);
  /** The message with `subject` in a mailbox, read with poplib until it is there (bounded). */
  const fetchBySubject = async (user: string, password: string, subject: string) => {
    let found: string | undefined;
    await waitFor(async () => (found = (await readMailbox(t.pop3Port, user, password)).find((m) => m.includes(`Subject: ${subject}`))) !== undefined, 15_000, 200);
    return found;
  };

  const logIn = async (page: Page, username: string, password: string) => {
    await page.goto(base);
    await page.getByLabel(/^(Mail address|メールアドレス)$/).fill(username);
    await page.getByLabel(/^(Password|パスワード)$/).fill(password);
    await page.getByRole('button', { name: /^(Log in|ログイン)$/ }).click();
  };

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    await seedTenants(t.directoryStore);
    await t.service.directory.refresh();
    base = `http://127.0.0.1:${t.portalPort}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t.stop();
    removeDir(dir);
  });

  test('an administrator adds an account through the form; mail sent to it with smtplib is read with poplib using the password set in the page', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await page.goto(base);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, 'login');
    await logIn(page, 'admin@a.test', 'test-password');
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByText('Add account').click();
    const form = page.getByRole('form', { name: 'Add account' });
    await form.getByLabel('User name (before @)').fill('kenji');
    await form.getByLabel('Name', { exact: true }).fill('<img src=x onerror="window.__xss=1">Kenji');
    await form.getByLabel('Department', { exact: true }).fill('Sales');
    await form.getByLabel(/^Password/).fill('river-stone-4821');
    await form.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('status').filter({ hasText: 'Account kenji@a.test added.' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'kenji@a.test' });
    await row.waitFor();
    // Shown as the text it is: no element made of it, no script run.
    assert.equal(await row.getByRole('cell').nth(1).textContent(), '<img src=x onerror="window.__xss=1">Kenji');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('table img').count(), 0);
    await screenshot(page, 'accounts');

    assert.equal((await send('kenji@a.test', 'Welcome Kenji')).code, 250);
    // Found only if poplib logged in with the password typed in the page.
    assert.match((await fetchBySubject('kenji@a.test', 'river-stone-4821', 'Welcome Kenji')) ?? '', /Hello from smtplib\./);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an administrator sets a user\'s forward in the account panel; mail to the user then reaches the target', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await logIn(page, 'admin@a.test', 'test-password');
    await page.getByRole('button', { name: 'Edit: user2@a.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'user2@a.test' });
    const forward = dialog.getByRole('form', { name: 'Forwarding' });
    await forward.getByLabel('Forwarding on').check();
    await forward.getByLabel('Forward to (one address per line)').fill('user1@a.test');
    await forward.getByLabel('Keep a copy in this mailbox').uncheck();
    await forward.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await screenshot(page, 'account-panel');
    await t.service.directory.refresh();
    assert.equal((await send('user2@a.test', 'Forward me')).code, 250);
    assert.match((await fetchBySubject('user1@a.test', 'test-password', 'Forward me')) ?? '', /Hello from smtplib\./);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a user logs in as user%domain, must choose a new password, then sees their own menu; the page is in Japanese for a Japanese browser and switches to English', async () => {
    // The administrator resets kenji's password; the page shows the generated one once.
    const admin = await browser.newPage({ locale: 'en-US' });
    await logIn(admin, 'admin@a.test', 'test-password');
    await admin.getByRole('button', { name: 'Edit: kenji@a.test' }).click();
    const dialog = admin.getByRole('dialog', { name: 'kenji@a.test' });
    await dialog.getByRole('form', { name: 'Reset password' }).getByRole('button', { name: 'Reset password' }).click();
    const shown = await dialog.getByRole('status').filter({ hasText: 'Password, shown once:' }).textContent();
    const generated = /shown once: (\S+)\./.exec(shown ?? '')?.[1];
    assert.ok(generated, `generated password shown: ${shown}`);
    await admin.close();

    const page = await browser.newPage({ locale: 'ja-JP' });
    const errors = watchErrors(page);
    await logIn(page, 'kenji%a.test', generated);
    await page.getByRole('heading', { name: '新しいパスワードの設定' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ja');
    const form = page.getByRole('form', { name: 'パスワード変更' });
    await form.getByLabel('現在のパスワード').fill(generated);
    await form.getByLabel('新しいパスワード', { exact: true }).fill('mountain-lake-9034');
    await form.getByLabel('新しいパスワード（確認）').fill('mountain-lake-9034');
    await form.getByRole('button', { name: 'パスワード変更' }).click();
    await page.getByRole('heading', { name: '個人設定' }).waitFor();
    await page.getByText('kenji@a.test', { exact: true }).waitFor();
    await screenshot(page, 'user-menu');
    await page.getByRole('button', { name: /English/ }).click();
    await page.getByRole('heading', { name: 'My settings' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the profile' }).click()]);
    assert.equal(download.suggestedFilename(), 'kenji@a.test.mobileconfig');
    const profile = readFileSync((await download.path())!, 'utf8');
    assert.match(profile, /<key>EmailAddress<\/key><string>kenji@a\.test<\/string>/, 'the Apple profile for this account');
    assert.deepEqual(errors, []);
    await page.close();
    // The new password is the one POP3 takes now.
    const pop = await python<PopResult>(POPLIB_SESSION, [t.pop3Port, 'plain', 'kenji%a.test', 'mountain-lake-9034', '[["stat"]]']);
    assert.match(pop.login, /^\+OK/, 'POP3 takes user%domain and the new password');
  });

  test('a user sets an automatic reply in their menu; a sender gets exactly one reply for two messages', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await logIn(page, 'user1@a.test', 'test-password');
    await page.getByRole('heading', { name: 'My settings' }).waitFor();
    const form = page.getByRole('form', { name: 'Automatic reply' });
    await form.getByLabel('Send an automatic reply').check();
    await form.getByLabel(/^Subject/).fill('Out of office');
    await form.getByLabel('Text').fill('I am away until Monday. <b>Urgent</b>: call the office.');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await screenshot(page, 'auto-reply');
    await t.service.directory.refresh();
    // The sender is hosted here too (another tenant), so the reply is read with poplib.
    for (const subject of ['Question 1', 'Question 2']) assert.equal((await send('user1@a.test', subject, 'admin@b.test')).code, 250);
    assert.ok(await queueDrained(dir, 15_000));
    const replies = (await readMailbox(t.pop3Port, 'admin@b.test')).filter((m) => /^Auto-Submitted: auto-replied$/m.test(m));
    assert.equal(replies.length, 1, 'exactly one reply for two messages');
    assert.match(replies[0]!, /^Subject: Out of office$/m);
    assert.match(replies[0]!, /I am away until Monday\. <b>Urgent<\/b>: call the office\./);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an administrator takes away a permission on the domain page; a user without it cannot forward outside the company or change their password', async () => {
    const admin = await browser.newPage({ locale: 'en-US' });
    await logIn(admin, 'admin@a.test', 'test-password');
    await admin.getByRole('link', { name: 'Domains' }).click();
    const domain = admin.getByRole('region', { name: 'a.test' });
    const form = domain.getByRole('form', { name: 'What users may do' });
    await form.getByLabel('Forward mail outside the company').uncheck();
    await form.getByLabel('Change their own password').uncheck();
    await form.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    // An API token for the company's scripts: shown once, and it works.
    const tokens = admin.getByRole('region', { name: 'API tokens' });
    await tokens.getByLabel('Name').fill('HR system');
    await tokens.getByRole('button', { name: 'Make a token' }).click();
    const shown = (await tokens.getByText(/^The token, shown once/).textContent()) ?? '';
    const token = /(hky_\S+)$/.exec(shown)?.[1];
    assert.ok(token, shown);
    const viaToken = await fetch(`${base}/api/v1/accounts`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(viaToken.status, 200);
    await tokens.getByRole('cell', { name: 'HR system', exact: true }).waitFor();
    await screenshot(admin, 'domains');
    await admin.close();

    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await logIn(page, 'user2@a.test', 'test-password');
    await page.getByRole('heading', { name: 'My settings' }).waitFor();
    await page.getByText('Your administrator manages this setting for you.').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Change password' }).count(), 0, 'no password form');
    const forward = page.getByRole('form', { name: 'Forwarding' });
    await forward.getByLabel('Forwarding on').check();
    await forward.getByLabel('Forward to (one address per line)').fill('me@gmail.example');
    await forward.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your administrator allows forwarding only to addresses of your company' }).waitFor();
    await t.service.directory.refresh();
    assert.equal(t.service.directory.expand('user2@a.test').remote.length, 0, 'nothing is forwarded outside');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('CSV import of 1,000 accounts: the preview shows the bad row first, the import runs with a progress bar, every account exists after', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const errors = watchErrors(page);
    await logIn(page, 'admin@a.test', 'test-password');
    const rows = Array.from({ length: 1000 }, (_, i) => (i === 499 ? 'broken-address,maple-leaf-3030,Broken,,' : `bulk${i}@a.test,maple-leaf-${3000 + i},社員 ${i},部署 ${i % 7},1G`));
    await page.getByText('Import or export (CSV)').click();
    await page.getByLabel('CSV file').setInputFiles({ name: 'accounts.csv', mimeType: 'text/csv', buffer: Buffer.from(`address,password,name,department,quota\r\n${rows.join('\r\n')}\r\n`) });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await page.getByText('999 to add, 0 to update, 1 with errors (not imported).').waitFor();
    const first = page.getByRole('table', { name: 'Check the file' }).getByRole('row').nth(1);
    assert.match((await first.textContent()) ?? '', /^501broken-address.*not an e-mail address/, 'the bad row (line 501) comes first, with its error');
    await screenshot(page, 'csv-preview');
    assert.equal((await t.directoryStore.listAccounts('a.test')).filter((a) => a.address.startsWith('bulk')).length, 0, 'nothing written by the preview');
    await page.getByRole('button', { name: 'Import 999 rows' }).click();
    await page.getByRole('progressbar', { name: 'Import progress' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Imported: 999 added, 0 updated, 1 skipped.' }).waitFor({ timeout: 180_000 });
    const bulk = (await t.directoryStore.listAccounts('a.test')).filter((a) => a.address.startsWith('bulk'));
    assert.equal(bulk.length, 999);
    assert.deepEqual([bulk.find((a) => a.address === 'bulk7@a.test')?.name, bulk.find((a) => a.address === 'bulk7@a.test')?.quotaBytes], ['社員 7', 1024 ** 3]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('in a phone-sized window (390 px) the login, accounts and settings pages fit its width in both languages', async () => {
    for (const [locale, user, heading] of [['ja-JP', 'admin@a.test', 'アカウント管理'], ['en-US', 'user1@a.test', 'My settings']] as const) {
      const page = await browser.newPage({ locale, viewport: { width: 390, height: 800 } });
      await page.goto(base);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, `${locale} login fits`);
      await logIn(page, user, 'test-password');
      await page.getByRole('heading', { name: heading }).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, `${locale} ${heading} fits`);
      await screenshot(page, `narrow-${locale}`);
      await page.close();
    }
  });
});
