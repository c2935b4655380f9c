import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, type AccountRecord, type RecipientDirectory } from '../directory/index.js';
import { Authenticator } from './authenticator.js';

test('a remembered login is accepted without argon2, and forgotten when the password changes', async () => {
  let account: AccountRecord = { id: 1, address: 'a@x.test', domain: 'x.test', passwordHash: await hashPassword('first-pass'), quotaBytes: 0, createdAt: 0 };
  const directory = { account: () => account } as unknown as RecipientDirectory;
  const auth = new Authenticator(directory, { failureDelayMs: 0, cacheMs: 60_000, maxFailuresPerIp: 100, maxFailuresPerAccount: 100, windowMs: 60_000 });
  assert.equal((await auth.login('A@x.test', 'first-pass', '127.0.0.1')).ok, true);
  const started = performance.now();
  assert.equal((await auth.login('a@x.test', 'first-pass', '127.0.0.1')).ok, true);
  const cachedMs = performance.now() - started;
  assert.equal((await auth.login('a@x.test', 'wrong-pass', '127.0.0.1')).ok, false, 'a wrong password is never taken from the cache');
  account = { ...account, passwordHash: await hashPassword('second-pass') };
  assert.equal((await auth.login('a@x.test', 'first-pass', '127.0.0.1')).ok, false, 'the old password stops working at once');
  assert.equal((await auth.login('a@x.test', 'second-pass', '127.0.0.1')).ok, true);
  console.log(`cached login took ${cachedMs.toFixed(2)} ms`);
});
