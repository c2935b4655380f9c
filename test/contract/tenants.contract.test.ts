import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HikyakuError } from '../../src/mail/index.js';
import { removeDir, tempDir } from '../helpers/service.js';
import { backendsWith, withStore } from './backends.js';

const code = (c: string) => (e: unknown) => e instanceof HikyakuError && e.code === c;

for (const backend of backendsWith('directory', 'DirectoryStore contract, tenants and roles')) {
  describe(`DirectoryStore contract, tenants and roles: ${backend.name}`, () => {
    test('tenants own domains; the default one takes domains added without one; suspension and moves reach caches', async () => {
      await withStore(backend.directory, async (s) => {
        assert.deepEqual((await s.listTenants()).map((t) => t.name), ['default'], 'the default tenant exists from the start');
        const acme = await s.addTenant('acme', 'Acme 株式会社');
        assert.deepEqual([acme.name, acme.displayName, acme.suspended], ['acme', 'Acme 株式会社', false]);
        await assert.rejects(s.addTenant('acme', 'again'), code('ERR_TENANT_EXISTS'));
        await s.addDomain('old.test');
        await s.addDomain('acme.test', undefined, 'acme');
        await assert.rejects(s.addDomain('x.test', undefined, 'nobody'), code('ERR_TENANT_UNKNOWN'));
        assert.deepEqual((await s.listDomains()).map((d) => [d.name, d.tenant]), [['acme.test', 'acme'], ['old.test', 'default']]);
        const v = await s.version();
        await s.setTenantSuspended('acme', true);
        assert.ok((await s.version()) > v, 'a suspension reaches caches');
        await s.setDomainTenant('old.test', 'acme');
        const snap = await s.snapshot();
        assert.deepEqual(snap.tenants.find((t) => t.name === 'acme')?.suspended, true);
        assert.deepEqual(snap.domains.map((d) => d.tenant), ['acme', 'acme']);
        await assert.rejects(s.setDomainTenant('old.test', 'nobody'), code('ERR_TENANT_UNKNOWN'));
        await assert.rejects(s.setTenantSuspended('nobody', true), code('ERR_TENANT_UNKNOWN'));
        await s.setDomainRetention('acme.test', 30);
        assert.equal((await s.snapshot()).domains.find((d) => d.name === 'acme.test')?.retentionDays, 30);
        await s.setDomainRetention('acme.test', null);
        assert.equal((await s.listDomains()).find((d) => d.name === 'acme.test')?.retentionDays, null);
        await assert.rejects(s.setDomainRetention('none.test', 1), code('ERR_DOMAIN_UNKNOWN'));
      });
    });

    test('account profiles: name, department, role, disabled, must-change; a password change clears must-change unless asked', async () => {
      await withStore(backend.directory, async (s) => {
        await s.addDomain('p.test');
        const a = await s.addAccount({ address: 'a@p.test', passwordHash: 'h', quotaBytes: 0, name: '山田 太郎', role: 'domain-admin', mustChangePassword: true });
        assert.deepEqual([a.name, a.department, a.role, a.disabled, a.mustChangePassword], ['山田 太郎', '', 'domain-admin', false, true]);
        const b = await s.updateAccount('a@p.test', { department: '営業', disabled: true, quotaBytes: 10 });
        assert.deepEqual([b.name, b.department, b.disabled, b.quotaBytes], ['山田 太郎', '営業', true, 10], 'fields not named are kept');
        await s.setPassword('a@p.test', 'h2');
        assert.equal((await s.listAccounts())[0]!.mustChangePassword, false);
        await s.setPassword('a@p.test', 'h3', true);
        const snap = await s.snapshot();
        assert.deepEqual([snap.accounts[0]!.passwordHash, snap.accounts[0]!.mustChangePassword, snap.accounts[0]!.disabled], ['h3', true, true]);
        await assert.rejects(s.updateAccount('none@p.test', { name: 'x' }), code('ERR_ACCOUNT_UNKNOWN'));
      });
    });

    test('automatic replies and forwards that are off: kept, in the snapshot, gone with their account', async () => {
      await withStore(backend.directory, async (s) => {
        await s.addDomain('r.test');
        await s.addAccount({ address: 'a@r.test', passwordHash: 'h', quotaBytes: 0 });
        const reply = { enabled: true, subject: '不在', body: '休暇中です', startsAt: 1000, endsAt: null };
        assert.deepEqual(await s.setAutoReply('a@r.test', reply), { account: 'a@r.test', ...reply });
        await s.setAutoReply('a@r.test', { ...reply, enabled: false });
        await s.setForward('a@r.test', ['x@elsewhere.test'], false, false);
        const snap = await s.snapshot();
        assert.deepEqual(snap.autoReplies, [{ account: 'a@r.test', ...reply, enabled: false }]);
        assert.deepEqual(snap.forwards, [{ account: 'a@r.test', targets: ['x@elsewhere.test'], keepCopy: false, enabled: false, conditions: null }]);
        await assert.rejects(s.setAutoReply('none@r.test', reply), code('ERR_ACCOUNT_UNKNOWN'));
        await s.removeAccount('a@r.test');
        assert.deepEqual(await s.listAutoReplies(), []);
      });
    });

    test('policies per domain and per account: set, replace, remove; gone with their account or domain', async () => {
      await withStore(backend.directory, async (s) => {
        await s.addDomain('q.test');
        await s.addAccount({ address: 'a@q.test', passwordHash: 'h', quotaBytes: 0 });
        const closed = { changePassword: false, forwardOutside: false, autoReply: true, pop3: true, imap: false, submission: true, allowFrom: ['192.0.2.0/24'] };
        await s.setPolicy('domain:q.test', closed);
        await s.setPolicy('account:a@q.test', { ...closed, pop3: false });
        await s.setPolicy('account:a@q.test', { ...closed, imap: true });
        assert.deepEqual((await s.snapshot()).policies, [{ scope: 'account:a@q.test', policy: { ...closed, imap: true } }, { scope: 'domain:q.test', policy: closed }]);
        await assert.rejects(s.setPolicy('account:none@q.test', closed), code('ERR_ACCOUNT_UNKNOWN'));
        await assert.rejects(s.setPolicy('domain:none.test', closed), code('ERR_DOMAIN_UNKNOWN'));
        await s.setPolicy('account:a@q.test', undefined);
        assert.deepEqual((await s.snapshot()).policies.map((p) => p.scope), ['domain:q.test']);
        await s.setPolicy('account:a@q.test', closed);
        await s.removeAccount('a@q.test');
        assert.deepEqual((await s.snapshot()).policies.map((p) => p.scope), ['domain:q.test'], 'an account\'s goes with it');
        await s.removeDomain('q.test', true);
        assert.deepEqual((await s.snapshot()).policies, [], 'a domain\'s goes with it');
      });
    });

    test('operators: add, password, remove; in the snapshot for logins', async () => {
      await withStore(backend.directory, async (s) => {
        await s.addOperator('ops', 'h');
        await assert.rejects(s.addOperator('ops', 'h'), code('ERR_OPERATOR_EXISTS'));
        await s.setOperatorPassword('ops', 'h2');
        assert.deepEqual((await s.snapshot()).operators.map((o) => [o.login, o.passwordHash]), [['ops', 'h2']]);
        await s.removeOperator('ops');
        assert.deepEqual(await s.listOperators(), []);
        await assert.rejects(s.removeOperator('ops'), code('ERR_OPERATOR_UNKNOWN'));
        await assert.rejects(s.setOperatorPassword('ops', 'h'), code('ERR_OPERATOR_UNKNOWN'));
      });
    });
  });

}

for (const backend of backendsWith('portalState', 'SessionStore and AuditLog contract')) {
  describe(`SessionStore and AuditLog contract: ${backend.name}`, () => {
    test('sessions: found by token only, expire, slide, end per subject; no token is stored', async () => {
      const dir = tempDir();
      const state = backend.portalState(dir);
      const other = backend.portalState(dir);
      try {
        const { token, session } = await state.create({ subject: 'a@p.test', kind: 'account', ip: '192.0.2.1', ttlMs: 60_000, csrf: 'c1' });
        assert.equal(session.subject, 'a@p.test');
        assert.equal((await other.get(token))?.csrf, 'c1', 'another handle (another portal instance) sees it');
        assert.equal(await other.get(token + 'x'), undefined);
        assert.equal(await state.get(token, session.expiresAt + 1), undefined, 'expired');
        await state.touch(token, session.createdAt + 1000, session.expiresAt + 500_000);
        assert.ok((await state.get(token, session.expiresAt + 1)) !== undefined, 'slid');
        const second = await state.create({ subject: 'a@p.test', kind: 'account', ip: '192.0.2.1', ttlMs: 60_000, csrf: 'c2' });
        assert.equal(await state.removeSubject('a@p.test', second.token), 1);
        assert.equal(await state.get(token), undefined);
        assert.ok(await state.get(second.token), 'the kept one stays');
        await state.remove(second.token);
        assert.equal(await state.get(second.token), undefined);
        const old = await state.create({ subject: 'b', kind: 'operator', ip: '::1', ttlMs: 1, csrf: 'c3' });
        assert.equal(await state.sweep(old.session.expiresAt + 1), 1);
        const { readFileSync } = await import('node:fs');
        const files = ['directory.db', 'directory.db-wal'].map((f) => { try { return readFileSync(`${dir}/${f}`); } catch { return Buffer.alloc(0); } });
        assert.ok(!files.some((b) => b.includes(token)), 'the token is not in the files');
      } finally {
        await state.close();
        await other.close();
        removeDir(dir);
      }
    });

    test('API tokens: the secret once, verified by hash, listed and revoked per tenant', async () => {
      await withStore(backend.portalState, async (s) => {
        const a = await s.createToken({ name: 'hr', tenant: 'acme', createdBy: 'x@a.test' });
        const p = await s.createToken({ name: 'billing', tenant: null, createdBy: 'operator:ops' });
        assert.equal((await s.verifyToken(a.token))?.name, 'hr');
        assert.equal((await s.verifyToken(a.token))?.lastUsedAt !== null, true, 'use is recorded');
        assert.equal(await s.verifyToken(a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A')), undefined, 'one character off');
        assert.equal(await s.verifyToken(`${a.token}x`), undefined);
        assert.equal(await s.verifyToken('hky_nonsense'), undefined);
        assert.deepEqual((await s.listTokens('acme')).map((t) => t.name), ['hr']);
        assert.deepEqual((await s.listTokens(null)).map((t) => t.name), ['billing']);
        assert.deepEqual((await s.listTokens(undefined)).map((t) => t.name), ['hr', 'billing']);
        assert.equal(await s.revokeToken(a.record.id, 'beta'), false, 'not another tenant\'s');
        assert.equal(await s.revokeToken(a.record.id, 'acme'), true);
        assert.equal(await s.verifyToken(a.token), undefined);
        assert.ok(await s.verifyToken(p.token));
      });
    });

    test('second factors: pending until confirmed, each time step used once and only forward, removed on request', async () => {
      await withStore(backend.portalState, async (s) => {
        assert.equal(await s.getTotp('a@p.test'), undefined);
        await s.setTotp('a@p.test', 'SECRET', false);
        assert.deepEqual(await s.getTotp('a@p.test'), { secret: 'SECRET', confirmed: false });
        assert.equal(await s.useTotpStep('a@p.test', 100), true);
        assert.equal(await s.useTotpStep('a@p.test', 100), false, 'a code works once');
        assert.equal(await s.useTotpStep('a@p.test', 99), false, 'and an older one not at all');
        assert.equal(await s.useTotpStep('a@p.test', 101), true);
        await s.setTotp('a@p.test', 'SECRET', true);
        assert.deepEqual(await s.getTotp('a@p.test'), { secret: 'SECRET', confirmed: true });
        assert.equal(await s.removeTotp('a@p.test'), true);
        assert.equal(await s.removeTotp('a@p.test'), false);
      });
    });

    test('last logins and the audit log: newest first, per tenant, paged', async () => {
      await withStore(backend.portalState, async (s) => {
        await s.recordLogins(new Map([['a@p.test', { at: 1, ip: '192.0.2.1', protocol: 'portal' }]]));
        await s.recordLogins(new Map([['a@p.test', { at: 2, ip: '192.0.2.2', protocol: 'portal' }], ['b@p.test', { at: 5, ip: '192.0.2.5', protocol: 'pop3' }]]));
        // An older login arriving late does not replace the newer one.
        await s.recordLogins(new Map([['b@p.test', { at: 4, ip: '192.0.2.4', protocol: 'imap' }]]));
        assert.deepEqual([...(await s.lastLogins(['a@p.test', 'none@p.test'])).entries()], [['a@p.test', { at: 2, ip: '192.0.2.2', protocol: 'portal' }]]);
        assert.deepEqual((await s.lastLogins(['b@p.test'])).get('b@p.test'), { at: 5, ip: '192.0.2.5', protocol: 'pop3' });
        for (let i = 0; i < 5; i++) await s.append({ tenant: i % 2 ? 'acme' : 'beta', actor: 'x@p.test', ip: '192.0.2.1', action: 'account.add', target: `u${i}@p.test`, detail: { i } });
        const acme = await s.list({ tenant: 'acme', limit: 10 });
        assert.deepEqual(acme.map((e) => e.target), ['u3@p.test', 'u1@p.test']);
        assert.deepEqual(acme[0]!.detail, { i: 3 });
        const all = await s.list({ limit: 2 });
        assert.deepEqual(all.map((e) => e.target), ['u4@p.test', 'u3@p.test']);
        assert.deepEqual((await s.list({ limit: 2, beforeId: all[1]!.id })).map((e) => e.target), ['u2@p.test', 'u1@p.test']);
      });
    });
  });
}
