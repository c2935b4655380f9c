import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInjectingMailStore } from '../src/mailstore/index.js';
import { python, removeDir, startTestService, tempDir, type TestService } from './helpers/service.js';
import { POPLIB_SESSION, SMTPLIB_SUBMIT } from './helpers/py.js';
import { PortalClient, seedTenants, type PortalReply } from './helpers/portal.js';

const isProblem = (r: PortalReply) => r.type.startsWith('application/problem+json') && typeof r.body?.detail === 'string' && r.body.status === r.status;
const noStack = (r: PortalReply) => !/\n\s+at |node_modules|\.ts:\d+|\.js:\d+/.test(r.text);
const enc = encodeURIComponent;

describe('portal JSON API', () => {
  let dir: string;
  let t: TestService;
  let faulty!: FaultInjectingMailStore;
  let base: string;

  before(async () => {
    dir = tempDir();
    t = await startTestService(dir, { 'portal.storeTimeoutMs': 300 }, { wrapMailStore: (s) => (faulty = new FaultInjectingMailStore(s)) });
    await seedTenants(t.directoryStore);
    await t.service.directory.refresh();
    base = `http://127.0.0.1:${t.portalPort}`;
  });
  after(async () => {
    await t.stop();
    removeDir(dir);
  });

  test('an Apple configuration profile for one\'s own account: IMAP and SMTP over TLS, read back by Python\'s plistlib; not for operators or tokens', async () => {
    const c = new PortalClient(base);
    await c.login('user1@a.test');
    const r = await c.call('GET', '/api/v1/me/apple-profile');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.type, 'application/x-apple-aspen-config');
    const script = "import json, plistlib, sys\np = plistlib.loads(sys.stdin.buffer.read())\nprint(json.dumps({'type': p['PayloadType'], 'account': p['PayloadContent'][0]}))";
    const parsed = await python<{ type: string; account: Record<string, unknown> }>(`import io, sys\nsys.stdin = io.TextIOWrapper(io.BytesIO(${JSON.stringify(r.text)}.encode()))\n${script}`);
    assert.equal(parsed.type, 'Configuration');
    const a = parsed.account;
    assert.deepEqual(
      [a.PayloadType, a.EmailAccountType, a.EmailAddress, a.IncomingMailServerHostName, a.IncomingMailServerPortNumber, a.IncomingMailServerUseSSL, a.IncomingMailServerUsername, a.OutgoingMailServerPortNumber, a.OutgoingMailServerUseSSL, a.OutgoingPasswordSameAsIncomingPassword],
      ['com.apple.mail.managed', 'EmailTypeIMAP', 'user1@a.test', t.config.hostname, t.config['imap.tlsPort'], true, 'user1@a.test', t.config['submission.tlsPort'], true, true],
    );
    const anonymous = await new PortalClient(base).call('GET', '/api/v1/me/apple-profile');
    assert.equal(anonymous.status, 401);
  });

  test('login: by address, as user%domain, wrong password 401, disabled 403, suspended tenant 403; all problems in words', async () => {
    const c = new PortalClient(base);
    const ok = await c.login('user1%A.test');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.address, 'user1@a.test');
    assert.equal(ok.body.tenant, 'acme');
    assert.match(c.cookie, /^hikyaku_session=/);
    assert.equal((await c.call('GET', '/api/v1/session')).body.address, 'user1@a.test');
    const wrong = await new PortalClient(base).login('user1@a.test', 'nope');
    assert.equal(wrong.status, 401);
    assert.ok(isProblem(wrong) && wrong.body.code === 'ERR_AUTH_FAILED', wrong.text);

    await t.directoryStore.updateAccount('user2@a.test', { disabled: true });
    await t.service.directory.refresh();
    const disabled = await new PortalClient(base).login('user2@a.test');
    assert.equal(disabled.status, 403);
    assert.equal(disabled.body.code, 'ERR_ACCOUNT_DISABLED');
    await t.directoryStore.updateAccount('user2@a.test', { disabled: false });

    const beta = new PortalClient(base);
    assert.equal((await beta.login('bob@b.test')).status, 200);
    await t.directoryStore.setTenantSuspended('beta', true);
    await t.service.directory.refresh();
    assert.equal((await new PortalClient(base).login('bob@b.test')).status, 403, 'a suspended tenant\'s users cannot log in');
    assert.equal((await beta.call('GET', '/api/v1/me')).status, 401, 'and their open sessions end');
    await t.directoryStore.setTenantSuspended('beta', false);
    await t.service.directory.refresh();

    const out = await c.call('DELETE', '/api/v1/session');
    assert.equal(out.status, 204);
    assert.equal((await c.call('GET', '/api/v1/session')).status, 401, 'logged out');
  });

  test('CSRF: a change without the session\'s token, or with another\'s, is refused; a form post cannot log in', async () => {
    const c = new PortalClient(base);
    await c.login('admin@a.test');
    const none = await c.call('POST', '/api/v1/accounts', { address: 'csrf1@a.test' }, { 'x-csrf-token': '' });
    assert.equal(none.status, 403);
    assert.equal(none.body.code, 'ERR_CSRF');
    const other = new PortalClient(base);
    await other.login('user1@a.test');
    assert.equal((await c.call('POST', '/api/v1/accounts', { address: 'csrf2@a.test' }, { 'x-csrf-token': other.csrf })).status, 403);
    assert.equal((await t.directoryStore.listAccounts('a.test')).filter((a) => a.address.startsWith('csrf')).length, 0, 'nothing was created');
    const form = await new PortalClient(base).call('POST', '/api/v1/session', 'username=admin%40a.test&password=test-password', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.ok(isProblem(form));
  });

  test('tenant isolation: every route, as tenant A\'s administrator (by session and by API token) against tenant B\'s objects, answers 404 or 403 and changes nothing', async () => {
    const a = new PortalClient(base);
    await a.login('admin@a.test');
    const made = await a.call('POST', '/api/v1/tokens', { name: 'isolation walk' });
    assert.equal(made.status, 201, made.text);
    const byToken = new PortalClient(base);
    const bearer = { authorization: `Bearer ${made.body.token}` };
    const bob = enc('bob@b.test');
    const bRecord = await t.directoryStore.addDnsRecord('b.test', { name: 'www', type: 'A', ttl: 300, value: '192.0.2.10' });
    const walk: [string, string, unknown?][] = [
      ['GET', '/api/v1/accounts?domain=b.test'],
      ['POST', '/api/v1/accounts', { address: 'intruder@b.test', password: 'a-long-password-1' }],
      ['GET', `/api/v1/accounts/${bob}`],
      ['PATCH', `/api/v1/accounts/${bob}`, { name: 'owned', quotaBytes: 1 }],
      ['DELETE', `/api/v1/accounts/${bob}`],
      ['POST', `/api/v1/accounts/${bob}/password`, { password: 'a-long-password-1', mustChangePassword: false }],
      ['POST', `/api/v1/accounts/${bob}/empty`],
      ['GET', `/api/v1/accounts/${bob}/forward`],
      ['PUT', `/api/v1/accounts/${bob}/forward`, { targets: ['thief@elsewhere.test'], keepCopy: false }],
      ['DELETE', `/api/v1/accounts/${bob}/forward`],
      ['GET', `/api/v1/accounts/${bob}/autoreply`],
      ['PUT', `/api/v1/accounts/${bob}/autoreply`, { enabled: true, subject: 'owned', body: 'thief' }],
      ['GET', `/api/v1/accounts/${bob}/policy`],
      ['PUT', `/api/v1/accounts/${bob}/policy`, { changePassword: false, forwardOutside: false, autoReply: false, pop3: false, imap: false, submission: false, allowFrom: [] }],
      ['DELETE', `/api/v1/accounts/${bob}/policy`],
      ['GET', '/api/v1/domains/b.test/policy'],
      ['PUT', '/api/v1/domains/b.test/retention', { days: 1 }],
      ['GET', '/api/v1/domains/b.test/dns'],
      ['GET', '/api/v1/domains/b.test/dns/check'],
      ['POST', '/api/v1/domains/b.test/dkim/rotate', {}],
      ['GET', '/api/v1/domains/b.test/zone'],
      ['GET', '/api/v1/domains/b.test/zone/records'],
      ['POST', '/api/v1/domains/b.test/zone/records', { name: 'thief', type: 'A', value: '192.0.2.66' }],
      ['PUT', `/api/v1/domains/b.test/zone/records/${bRecord.id}`, { name: 'www', type: 'A', value: '192.0.2.66' }],
      ['DELETE', `/api/v1/domains/b.test/zone/records/${bRecord.id}`],
      ['GET', '/api/v1/domains/b.test/site'],
      ['PUT', '/api/v1/domains/b.test/site/files/index.html', Buffer.from('thief')],
      ['DELETE', '/api/v1/domains/b.test/site/files/index.html'],
      ['PUT', '/api/v1/domains/b.test/site', Buffer.from('PK thief')],
      ['PUT', '/api/v1/domains/b.test/site/sftp-password', { password: 'a-thief-password-1' }],
      ['DELETE', '/api/v1/domains/b.test/site/sftp-password'],
      ['PUT', '/api/v1/domains/b.test/policy', { changePassword: false, forwardOutside: false, autoReply: false, pop3: false, imap: false, submission: false, allowFrom: [] }],
      ['GET', '/api/v1/accounts/export?domain=b.test'],
      ['GET', '/api/v1/notices'],
      ['POST', '/api/v1/notices', { kind: 'incident', title: 'thief', body: '', services: [], startsAt: new Date().toISOString() }],
      ['PUT', '/api/v1/notices/1', { kind: 'incident', title: 'thief', body: '', services: [], startsAt: new Date().toISOString() }],
      ['POST', '/api/v1/notices/1/close'],
      ['POST', '/api/v1/notices/1/publish', { mailAdmins: true }],
      ['GET', '/api/v1/queue/summary'],
      ['GET', '/api/v1/queue/entries?tenant=beta'],
      ['GET', '/api/v1/queue/entries/1'],
      ['POST', '/api/v1/queue/delete', { tenant: 'beta', dsn: false, confirm: true }],
      ['GET', '/api/v1/aliases?domain=b.test'],
      ['PUT', `/api/v1/aliases/${enc('sales@b.test')}`, { targets: ['thief@elsewhere.test'] }],
      ['PUT', `/api/v1/aliases/${enc('@b.test')}`, { targets: ['thief@elsewhere.test'] }],
      ['DELETE', `/api/v1/aliases/${enc('sales@b.test')}`],
    ];
    for (const [client, headers] of [[a, {}], [byToken, bearer]] as const) {
      for (const [method, path, body] of walk) {
        const r = await client.call(method, path, body, { ...headers });
        assert.ok(r.status === 404 || r.status === 403, `${method} ${path}: ${r.status} ${r.text}`);
        assert.ok(isProblem(r), `${method} ${path} answers a problem`);
        assert.doesNotMatch(r.text, /Bob|thief/, 'nothing of B\'s object is shown');
      }
    }
    assert.deepEqual((await byToken.call('GET', '/api/v1/accounts', undefined, bearer)).body.items.map((x: { domain: string }) => x.domain).filter((d: string) => d !== 'a.test'), []);
    // Lists show only A's things.
    const accounts = await a.call('GET', '/api/v1/accounts');
    assert.deepEqual(accounts.body.items.map((x: { domain: string }) => x.domain).filter((d: string) => d !== 'a.test'), []);
    assert.deepEqual((await a.call('GET', '/api/v1/aliases')).body.items, []);
    assert.deepEqual((await a.call('GET', '/api/v1/domains')).body.items.map((d: { name: string }) => d.name), ['a.test']);
    assert.ok((await a.call('GET', '/api/v1/audit')).body.items.every((e: { tenant: string }) => e.tenant === 'acme'));
    const exported = await fetch(`${base}/api/v1/accounts/export`, { headers: { cookie: a.cookie } });
    assert.doesNotMatch(await exported.text(), /b\.test/, 'the export has only A\'s accounts');
    const csv = 'address,password,name\r\nbob@b.test,a-long-password-1,owned\r\nnew@b.test,a-long-password-1,intruder\r\n';
    const preview = await a.call('POST', '/api/v1/accounts/import', Buffer.from(csv), { 'content-type': 'text/csv' });
    assert.deepEqual(preview.body.counts, { add: 0, update: 0, error: 2 }, 'B\'s rows are errors in A\'s import');
    const imported = await a.call('POST', '/api/v1/accounts/import?commit=true&skipErrors=true', Buffer.from(csv), { 'content-type': 'text/csv' });
    assert.match(imported.text, /"added":0,"updated":0,"skipped":2/);

    // Every route the API has is in the walk or acts on the caller's own things only.
    const own = new Set(['POST /api/v1/session', 'GET /api/v1/session', 'DELETE /api/v1/session', 'PUT /api/v1/me/password', 'GET /api/v1/me', 'GET /api/v1/me/apple-profile', 'PUT /api/v1/me/forward', 'GET /api/v1/me/autoreply', 'PUT /api/v1/me/autoreply', 'GET /api/v1/me/totp', 'POST /api/v1/me/totp', 'POST /api/v1/me/totp/confirm', 'DELETE /api/v1/me/totp', 'DELETE /api/v1/me/forward', 'GET /api/v1/accounts', 'POST /api/v1/accounts/import', 'GET /api/v1/aliases', 'GET /api/v1/domains', 'GET /api/v1/audit', 'GET /api/v1/tokens', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/{id}', 'GET /api/v1/notices/current', 'GET /api/v1/me/notices', 'GET /api/v1/status']);
    const walked = new Set(walk.map(([m, p]) => `${m} ${p.split('?')[0]!.replace(bob, '{address}').replace('/domains/b.test/', '/domains/{domain}/').replace(/\/notices\/1(?=\/|$)/, '/notices/{id}').replace(/\/queue\/entries\/1$/, '/queue/entries/{id}').replace(/\/queue\/delete$/, '/queue/{action}').replace(/\/aliases\/[^/]+$/, '/aliases/{address}').replace(/\/zone\/records\/\d+$/, '/zone/records/{id}').replace(/\/site\/files\/.+$/, '/site/files/{*}')}`));
    const spec = (await a.call('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const m of Object.keys(methods)) {
        const route = `${m.toUpperCase()} ${path}`;
        assert.ok(own.has(route) || walked.has(route), `${route} is neither walked nor own-only`);
      }
    }

    // B's objects are as they were.
    const snapshot = await t.directoryStore.snapshot();
    assert.equal(snapshot.accounts.find((x) => x.address === 'bob@b.test')?.name, 'Bob');
    assert.deepEqual(snapshot.forwards.find((f) => f.account === 'bob@b.test')?.targets, ['admin@b.test']);
    assert.deepEqual(snapshot.aliases.find((x) => x.address === 'sales@b.test')?.targets, ['bob@b.test']);
    assert.ok(!snapshot.accounts.some((x) => x.address === 'intruder@b.test'));
    assert.deepEqual(snapshot.autoReplies, [], 'no automatic reply was set on B\'s account');
    assert.deepEqual(snapshot.policies, [], 'no permissions were changed in B');
    assert.deepEqual(snapshot.dnsRecords, [bRecord], 'B\'s zone is as it was');
    assert.equal(snapshot.domains.find((d) => d.name === 'b.test')?.retentionDays, null, 'no retention rule was set on B');
    assert.equal((await new PortalClient(base).login('bob@b.test')).status, 200, 'bob\'s password is unchanged');
  });

  test('API tokens: made by a tenant administrator, shown once, act for that tenant without CSRF, cannot make tokens, stop at once when revoked or when the tenant is suspended', async () => {
    const b = new PortalClient(base);
    await b.login('admin@b.test');
    const made = await b.call('POST', '/api/v1/tokens', { name: 'provisioning' });
    assert.match(made.body.token, /^hky_[0-9a-f]{12}_[A-Za-z0-9_-]{32}$/);
    assert.equal(made.body.tenant, 'beta');
    const list = await b.call('GET', '/api/v1/tokens');
    assert.deepEqual(list.body.items.map((x: { name: string }) => x.name), ['provisioning']);
    assert.ok(!list.text.includes(made.body.token.slice(made.body.token.indexOf('_', 4) + 1)), 'the secret is shown once only');
    const auto = new PortalClient(base);
    const bearer = { authorization: `Bearer ${made.body.token}` };
    const added = await auto.call('POST', '/api/v1/accounts', { address: 'robot-made@b.test', password: 'provisioned-pass-1' }, bearer);
    assert.equal(added.status, 201, added.text);
    const audit = (await b.call('GET', '/api/v1/audit')).body.items.find((e: { target: string }) => e.target === 'robot-made@b.test');
    assert.equal(audit.actor, 'token:provisioning');
    assert.equal((await auto.call('POST', '/api/v1/tokens', { name: 'spare' }, bearer)).status, 403, 'a token makes no tokens');
    assert.equal((await auto.call('GET', '/api/v1/accounts', undefined, { authorization: `Bearer ${made.body.token.slice(0, -1)}${made.body.token.endsWith('A') ? 'B' : 'A'}` })).status, 401);
    await t.directoryStore.setTenantSuspended('beta', true);
    await t.service.directory.refresh();
    assert.equal((await auto.call('GET', '/api/v1/accounts', undefined, bearer)).status, 403, 'a suspended tenant\'s token stops');
    await t.directoryStore.setTenantSuspended('beta', false);
    await t.service.directory.refresh();
    assert.equal((await b.call('DELETE', `/api/v1/tokens/${made.body.id}`)).status, 204);
    const after = await auto.call('GET', '/api/v1/accounts', undefined, bearer);
    assert.equal(after.status, 401);
    assert.equal(after.body.code, 'ERR_TOKEN_INVALID');
    const a = new PortalClient(base);
    await a.login('admin@a.test');
    assert.equal((await a.call('DELETE', `/api/v1/tokens/${made.body.id}`)).status, 404, 'another tenant\'s token is not there');
    await t.directoryStore.removeAccount('robot-made@b.test');
  });

  test('a user, against another user\'s objects and the administrators\' routes: 404 or 403; their own menu works', async () => {
    const u = new PortalClient(base);
    await u.login('user1@a.test');
    const other = enc('user2@a.test');
    for (const [method, path, body] of [
      ['GET', `/api/v1/accounts/${other}`],
      ['PATCH', `/api/v1/accounts/${other}`, { name: 'x' }],
      ['POST', `/api/v1/accounts/${other}/password`, {}],
      ['PUT', `/api/v1/accounts/${other}/forward`, { targets: ['user1@a.test'] }],
      ['POST', '/api/v1/accounts', { address: 'new@a.test' }],
      ['PUT', `/api/v1/aliases/${enc('all@a.test')}`, { targets: ['user1@a.test'] }],
      ['GET', '/api/v1/audit'],
    ] as [string, string, unknown?][]) {
      const r = await u.call(method, path, body);
      assert.ok(r.status === 404 || r.status === 403, `${method} ${path}: ${r.status}`);
    }
    assert.deepEqual((await u.call('GET', '/api/v1/accounts')).body.items, [], 'a user manages no accounts');
    const fwd = await u.call('PUT', '/api/v1/me/forward', { targets: ['User2@A.test'], keepCopy: true });
    assert.equal(fwd.status, 200, fwd.text);
    assert.deepEqual(fwd.body, { targets: ['user2@a.test'], keepCopy: true, enabled: true, conditions: null });
    await t.service.directory.refresh();
    assert.deepEqual(t.service.directory.expand('user1@a.test').accounts.map((a) => a.address).sort(), ['user1@a.test', 'user2@a.test'], 'delivery follows the new forward');
    assert.equal((await u.call('DELETE', '/api/v1/me/forward')).status, 204);
  });

  test('an administrator adds an account, resets its password (must change at next login) and sets its forward without the user\'s password', async () => {
    const a = new PortalClient(base);
    await a.login('admin@a.test');
    const weak = await a.call('POST', '/api/v1/accounts', { address: 'hanako@a.test', password: 'hanako-2026!' });
    assert.equal(weak.status, 400);
    assert.match(weak.body.detail, /user name/);
    const added = await a.call('POST', '/api/v1/accounts', { address: 'Hanako@a.test', name: '佐藤 花子', department: '総務', quotaBytes: 1_048_576 });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.account.address, 'hanako@a.test');
    assert.equal(added.body.account.mustChangePassword, true);
    assert.equal(typeof added.body.password, 'string');
    assert.equal((await a.call('POST', '/api/v1/accounts', { address: 'hanako@a.test' })).body.code, 'ERR_ADDRESS_TAKEN');

    const h = new PortalClient(base);
    assert.equal((await h.login('hanako@a.test', added.body.password)).body.mustChangePassword, true);
    assert.equal((await h.call('GET', '/api/v1/me')).body.code, 'ERR_PASSWORD_CHANGE_REQUIRED', 'nothing else before the new password');
    assert.equal((await h.call('PUT', '/api/v1/me/password', { current: added.body.password, password: 'sakura-blossom-77' })).status, 204);
    assert.equal((await h.call('GET', '/api/v1/me')).body.name, '佐藤 花子');

    const fwd = await a.call('PUT', `/api/v1/accounts/${enc('hanako@a.test')}/forward`, { targets: ['user1@a.test'], keepCopy: false });
    assert.deepEqual(fwd.body, { targets: ['user1@a.test'], keepCopy: false, enabled: true, conditions: null });
    const reset = await a.call('POST', `/api/v1/accounts/${enc('hanako@a.test')}/password`, { password: 'another-secret-88' });
    assert.equal(reset.body.mustChangePassword, true);
    assert.equal((await h.call('GET', '/api/v1/session')).status, 401, 'a reset ends the user\'s sessions');
    assert.equal((await new PortalClient(base).login('hanako@a.test', 'another-secret-88')).status, 200);
    const self = await a.call('PATCH', `/api/v1/accounts/${enc('admin@a.test')}`, { disabled: true });
    assert.equal(self.status, 409, 'an administrator cannot lock themselves out');
    const audit = (await a.call('GET', '/api/v1/audit')).body.items.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    for (const entry of ['account.add hanako@a.test', 'forward.set hanako@a.test', 'account.password-reset hanako@a.test']) assert.ok(audit.includes(entry), entry);
  });

  test('permissions: a user the domain does not allow cannot change their password, forward outside the company or set an automatic reply; POP3, submission and networks are enforced at login', async () => {
    const admin = new PortalClient(base);
    await admin.login('admin@a.test');
    const closed = { changePassword: false, forwardOutside: false, autoReply: false, pop3: false, imap: true, submission: false, allowFrom: [] };
    assert.equal((await admin.call('PUT', '/api/v1/domains/a.test/policy', closed)).status, 200);
    const badNet = await admin.call('PUT', `/api/v1/accounts/${enc('user2@a.test')}/policy`, { ...closed, allowFrom: ['10.0.0.0/99'] });
    assert.equal(badNet.status, 400);
    assert.match(badNet.body.detail, /prefix length/);
    const u = new PortalClient(base);
    await u.login('user1@a.test');
    assert.deepEqual((await u.call('GET', '/api/v1/me')).body.policy, closed);
    const pw = await u.call('PUT', '/api/v1/me/password', { current: 'test-password', password: 'a-new-secret-pass' });
    assert.equal(pw.status, 403);
    assert.equal(pw.body.code, 'ERR_NOT_PERMITTED');
    const out = await u.call('PUT', '/api/v1/me/forward', { targets: ['someone@elsewhere.test', 'user2@a.test'] });
    assert.equal(out.status, 403);
    assert.match(out.body.detail, /not to someone@elsewhere\.test\./);
    assert.equal((await u.call('PUT', '/api/v1/me/forward', { targets: ['user2@a.test'], keepCopy: true })).status, 200, 'inside the company is fine');
    assert.equal((await u.call('PUT', '/api/v1/me/autoreply', { enabled: true, subject: '', body: 'away' })).status, 403);
    // The administrator is not bound by the users' permissions.
    assert.equal((await admin.call('PUT', `/api/v1/accounts/${enc('user1@a.test')}/forward`, { targets: ['someone@elsewhere.test'], keepCopy: true })).status, 200);

    const pop = (user: string) => python<{ login: string }>(POPLIB_SESSION, [t.pop3Port, 'plain', user, 'test-password', '[]']);
    assert.equal((await pop('user1@a.test')).login, '-ERR [AUTH] POP3 is turned off for this account; ask your administrator');
    const smtp = await python<{ auth: [number, string] }>(SMTPLIB_SUBMIT, [t.submissionsPort, 'tls', 'user1@a.test', 'test-password', 'PLAIN', 'user1@a.test', 'user2@a.test', 'Subject: x\r\n\r\nx\r\n']);
    assert.deepEqual(smtp.auth, [535, '5.7.8 Login not allowed: Sending mail (SMTP submission) is turned off for this account; ask your administrator']);
    // One account gets its own: POP3 on, but only from a network the test is not in.
    assert.equal((await admin.call('PUT', `/api/v1/accounts/${enc('user2@a.test')}/policy`, { ...closed, pop3: true, allowFrom: ['192.0.2.0/24'] })).body.inherited, false);
    assert.match((await pop('user2@a.test')).login, /^-ERR \[AUTH\] This account may not log in from 127\.0\.0\.1/);
    assert.equal((await admin.call('PUT', `/api/v1/accounts/${enc('user2@a.test')}/policy`, { ...closed, pop3: true, allowFrom: ['127.0.0.0/8', '::1'] })).status, 200);
    assert.match((await pop('user2@a.test')).login, /^\+OK/);
    assert.equal((await admin.call('DELETE', `/api/v1/accounts/${enc('user2@a.test')}/policy`)).status, 204);
    assert.equal((await admin.call('GET', `/api/v1/accounts/${enc('user2@a.test')}/policy`)).body.inherited, true);
    assert.match((await pop('user2@a.test')).login, /turned off/, 'back to the domain\'s');
    // Open again for the other tests.
    await admin.call('PUT', '/api/v1/domains/a.test/policy', { ...closed, changePassword: true, forwardOutside: true, autoReply: true, pop3: true, submission: true });
    await admin.call('DELETE', `/api/v1/accounts/${enc('user1@a.test')}/forward`);
    await u.call('DELETE', '/api/v1/me/forward');
  });

  test('hostile input gets a 4xx problem, never a 500 or a stack trace', async () => {
    const a = new PortalClient(base);
    await a.login('admin@a.test');
    const cases: [string, string, string | Buffer | object, Record<string, string>?][] = [
      ['POST', '/api/v1/accounts', '{"address":', { 'content-type': 'application/json' }],
      ['POST', '/api/v1/accounts', '', { 'content-type': 'application/json' }],
      ['POST', '/api/v1/accounts', '[1,2,3]', { 'content-type': 'application/json' }],
      ['POST', '/api/v1/accounts', { address: 'x@a.test', name: 'n'.repeat(5000) }],
      ['POST', '/api/v1/accounts', { address: 'x@a.test', quotaBytes: -1 }],
      ['POST', '/api/v1/accounts', { address: 'x@a.test', role: 'god' }],
      ['POST', '/api/v1/accounts', { address: 'x@a.test', extra: true }],
      ['POST', '/api/v1/accounts', { address: 'no-at-sign' }],
      ['POST', '/api/v1/accounts', { address: 'nul\u0000@a.test' }],
      ['POST', '/api/v1/accounts', Buffer.from([0x7b, 0x22, 0x61, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x40, 0x61, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x22, 0x7d]), { 'content-type': 'application/json' }],
      ['POST', '/api/v1/accounts', `{"address":"${'a'.repeat(2 * 1024 * 1024)}"}`, { 'content-type': 'application/json' }],
      ['POST', '/api/v1/accounts', 'address=x', { 'content-type': 'text/plain' }],
      ['GET', `/api/v1/accounts/${'%ZZ'}`, ''],
      ['GET', `/api/v1/accounts/${enc('a'.repeat(600) + '@a.test')}`, ''],
      ['GET', '/api/v1/accounts?page=0', ''],
      ['GET', '/api/v1/accounts?pageSize=100000', ''],
      ['GET', '/api/v1/accounts?sort=password', ''],
      ['PUT', `/api/v1/aliases/${enc('@@a.test')}`, { targets: ['x@a.test'] }],
      ['PUT', `/api/v1/aliases/${enc('x@a.test')}`, { targets: [] }],
      ['PUT', `/api/v1/aliases/${enc('x@a.test')}`, { targets: Array.from({ length: 1000 }, (_, i) => `t${i}@a.test`) }],
      ['GET', '/api/v1/no-such-route', ''],
      ['DELETE', '/api/v1/accounts', ''],
    ];
    for (const [method, path, body, headers] of cases) {
      const r = await a.call(method, path, method === 'GET' ? undefined : body, headers);
      const label = `${method} ${path.slice(0, 60)} ${typeof body === 'string' ? body.slice(0, 30) : ''}`;
      assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(isProblem(r), `${label}: a problem+json with a sentence`);
      assert.ok(noStack(r), `${label}: no stack trace`);
    }
    const xss = await a.call('POST', '/api/v1/accounts', { address: 'xss@a.test', name: '<img src=x onerror=alert(1)>' });
    assert.equal(xss.status, 201);
    assert.equal(xss.body.account.name, '<img src=x onerror=alert(1)>', 'stored and returned as the text it is');
  });

  test('the mailbox store hangs: login and directory pages still answer, mailbox figures say unavailable', async () => {
    faulty.setFault({ kind: 'hang' }, 'reads');
    try {
      const a = new PortalClient(base);
      assert.equal((await a.login('admin@a.test')).status, 200);
      const list = await a.call('GET', '/api/v1/accounts');
      assert.equal(list.status, 200);
      assert.equal(list.body.usageUnavailable, true);
      assert.ok(list.body.items.every((x: { usage: unknown }) => x.usage === null));
      assert.equal((await a.call('GET', '/api/v1/aliases')).status, 200);
      const empty = await a.call('POST', `/api/v1/accounts/${enc('user1@a.test')}/empty`);
      assert.equal(empty.status, 503);
      assert.match(empty.body.detail, /temporarily unavailable/);
    } finally {
      faulty.setFault({ kind: 'none' }, 'reads');
    }
  });
});

describe('two portal instances on the same data', () => {
  test('a session made on one works on the other, and with the first stopped the second serves on', async () => {
    const dir = tempDir();
    const first = await startTestService(dir);
    await seedTenants(first.directoryStore);
    await first.service.directory.refresh();
    const second = await startTestService(dir, { roles: ['portal'] });
    try {
      const c = new PortalClient(`http://127.0.0.1:${first.portalPort}`);
      assert.equal((await c.login('admin@a.test')).status, 200);
      const onSecond = new PortalClient(`http://127.0.0.1:${second.portalPort}`);
      onSecond.cookie = c.cookie;
      onSecond.csrf = c.csrf;
      assert.equal((await onSecond.call('GET', '/api/v1/session')).body.address, 'admin@a.test');
      await first.stop();
      const added = await onSecond.call('POST', '/api/v1/accounts', { address: 'standby@a.test', password: 'second-instance-1' });
      assert.equal(added.status, 201, added.text);
      assert.equal((await new PortalClient(`http://127.0.0.1:${second.portalPort}`).login('standby@a.test', 'second-instance-1')).status, 200);
    } finally {
      await second.stop();
      removeDir(dir);
    }
  });
});
