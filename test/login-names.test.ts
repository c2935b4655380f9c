import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { POPLIB_SESSION, SMTPLIB_SUBMIT } from './helpers/py.js';
import { python, removeDir, startTestService, tempDir, waitFor, type TestService } from './helpers/service.js';
import { PortalClient, seedTenants } from './helpers/portal.js';

interface PopResult {
  login: string;
}
interface SubmitResult {
  auth: [number, string];
  code: number;
}

describe('logins over POP3 and submission: user%domain, disabled accounts, suspended tenants', () => {
  let dir: string;
  let t: TestService;
  const pop = (user: string) => python<PopResult>(POPLIB_SESSION, [t.pop3Port, 'plain', user, 'test-password', '[]']);
  const submit = (user: string) =>
    python<SubmitResult>(SMTPLIB_SUBMIT, [t.submissionsPort, 'tls', user, 'test-password', 'PLAIN', 'user1@a.test', 'user2@a.test', 'From: user1@a.test\r\nSubject: hi\r\n\r\nhi\r\n']);

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir);
    await seedTenants(t.directoryStore);
    await t.service.directory.refresh();
  });
  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('user%domain is the account user@domain in POP3 (poplib) and SMTP AUTH (smtplib)', async () => {
    assert.match((await pop('user1%a.test')).login, /^\+OK/);
    const s = await submit('User1%A.TEST');
    assert.equal(s.auth[0], 235, s.auth[1]);
    assert.equal(s.code, 250);
  });

  test('a protocol login shows as the account\'s last login in the portal', async () => {
    const before = Date.now();
    assert.match((await pop('user2@a.test')).login, /^\+OK/);
    const admin = new PortalClient(`http://127.0.0.1:${t.portalPort}`);
    await admin.login('admin@a.test');
    let last: { at: string; protocol: string } | null = null;
    await waitFor(async () => {
      const items = (await admin.call('GET', '/api/v1/accounts?q=user2')).body.items as { lastLogin: { at: string; protocol: string } | null }[];
      last = items[0]?.lastLogin ?? null;
      return last !== null;
    }, 15_000, 250);
    const seen = last as { at: string; protocol: string } | null;
    assert.equal(seen?.protocol, 'pop3');
    assert.ok(Date.parse(seen!.at) >= before && Date.parse(seen!.at) <= Date.now(), `a recent time: ${seen?.at}`);
  });

  test('a disabled account and a suspended tenant\'s account are refused with a sentence that says so, the right password notwithstanding', async () => {
    await t.directoryStore.updateAccount('user1@a.test', { disabled: true });
    await t.service.directory.refresh();
    assert.equal((await pop('user1@a.test')).login, '-ERR [AUTH] This account is disabled; ask your administrator');
    const s = await submit('user1@a.test');
    assert.deepEqual(s.auth, [535, '5.7.8 This account is disabled; ask your administrator']);
    await t.directoryStore.updateAccount('user1@a.test', { disabled: false });
    await t.directoryStore.setTenantSuspended('acme', true);
    await t.service.directory.refresh();
    assert.match((await pop('user2@a.test')).login, /disabled/);
    assert.match((await pop('bob@b.test')).login, /^\+OK/, 'another tenant is not affected');
    await t.directoryStore.setTenantSuspended('acme', false);
    await t.service.directory.refresh();
    assert.match((await pop('user2@a.test')).login, /^\+OK/);
    // A wrong password still gets the plain refusal: "disabled" tells only someone who knows the password.
    const wrong = await python<PopResult>(POPLIB_SESSION, [t.pop3Port, 'plain', 'user2@a.test', 'wrong', '[]']);
    assert.equal(wrong.login, '-ERR [AUTH] Invalid user name or password');
  });
});
