import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPEN_POLICY, hashPassword, verifyPassword, type AccountRecord, type LoginDirectory } from '../directory/index.js';
import { Authenticator } from './authenticator.js';

test('a remembered login is accepted without argon2, and forgotten when the password changes', async () => {
  let account: AccountRecord = { id: 1, address: 'a@x.test', domain: 'x.test', passwordHash: await hashPassword('first-pass'), quotaBytes: 0, createdAt: 0, name: '', department: '', role: 'user', disabled: false, mustChangePassword: false };
  const directory = { loaded: true, account: () => account, operator: () => undefined, tenantOf: () => undefined, tenant: () => undefined, domains: () => [], accountsIn: () => [], policyFor: () => OPEN_POLICY, policyOf: () => undefined } satisfies LoginDirectory;
  let argon2Checks = 0;
  const counting = (hash: string, password: string) => {
    argon2Checks++;
    return verifyPassword(hash, password);
  };
  const auth = new Authenticator(directory, { failureDelayMs: 0, cacheMs: 60_000, maxFailuresPerIp: 100, maxFailuresPerAccount: 100, windowMs: 60_000 }, counting);
  assert.equal((await auth.login('A@x.test', 'first-pass', '127.0.0.1')).ok, true);
  assert.equal(argon2Checks, 1);
  assert.equal((await auth.login('a@x.test', 'first-pass', '127.0.0.1')).ok, true);
  assert.equal(argon2Checks, 1, 'the second login was answered from the cache');
  assert.equal((await auth.login('a@x.test', 'wrong-pass', '127.0.0.1')).ok, false, 'a wrong password is never taken from the cache');
  assert.equal(argon2Checks, 2);
  account = { ...account, passwordHash: await hashPassword('second-pass') };
  assert.equal((await auth.login('a@x.test', 'first-pass', '127.0.0.1')).ok, false, 'the old password stops working at once');
  assert.equal((await auth.login('a@x.test', 'second-pass', '127.0.0.1')).ok, true);
});

test('before the directory has loaded, a login is a temporary failure, not a wrong password', async () => {
  const directory = { loaded: false, account: () => undefined, operator: () => undefined, tenantOf: () => undefined, tenant: () => undefined, domains: () => [], accountsIn: () => [], policyFor: () => OPEN_POLICY, policyOf: () => undefined } satisfies LoginDirectory;
  const auth = new Authenticator(directory, { failureDelayMs: 0, cacheMs: 60_000, maxFailuresPerIp: 1, maxFailuresPerAccount: 1, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.deepEqual(await auth.login('a@x.test', 'any', '127.0.0.1'), { ok: false, reason: 'unavailable' }, 'and it counts as no failed login');
});
