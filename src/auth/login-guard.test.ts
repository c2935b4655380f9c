import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard } from './login-guard.js';

test('failed logins are limited per address, and per account from each address, within the window', () => {
  const g = new LoginGuard({ maxFailuresPerIp: 3, maxFailuresPerAccount: 2, windowMs: 1000 });
  const t0 = 1_000_000;
  g.failed('10.0.0.1', 'a@x.test', t0);
  assert.equal(g.blockedFor('10.0.0.1', 'a@x.test', t0), 0);
  g.failed('10.0.0.1', 'a@x.test', t0 + 100);
  assert.equal(g.blockedFor('10.0.0.1', 'a@x.test', t0 + 100), 900, 'the guessing address is limited for that account');
  assert.equal(g.blockedFor('10.0.0.3', 'a@x.test', t0 + 100), 0, "the account's owner elsewhere is not locked out");
  assert.equal(g.blockedFor('10.0.0.1', 'b@x.test', t0 + 100), 0, 'other accounts from that address are not, yet');
  g.failed('10.0.0.1', 'c@x.test', t0 + 300);
  assert.ok(g.blockedFor('10.0.0.1', 'd@x.test', t0 + 300) > 0, 'past its own limit the address is limited for every account');
  assert.equal(g.blockedFor('10.0.0.1', 'd@x.test', t0 + 1301), 0, 'old failures age out');
  g.failed('10.0.0.2', 'e@x.test', t0);
  g.succeeded('10.0.0.2', 'e@x.test');
  g.failed('10.0.0.2', 'e@x.test', t0 + 10);
  assert.equal(g.blockedFor('10.0.0.2', 'e@x.test', t0 + 10), 0, "a successful login clears that address's count for the account");
});
