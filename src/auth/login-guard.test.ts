import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard } from './login-guard.js';

test('failed logins are limited per address and per account within the window', () => {
  const g = new LoginGuard({ maxFailuresPerIp: 3, maxFailuresPerAccount: 2, windowMs: 1000 });
  const t0 = 1_000_000;
  g.failed('10.0.0.1', 'a@x.test', t0);
  assert.equal(g.blockedFor('10.0.0.1', 'a@x.test', t0), 0);
  g.failed('10.0.0.2', 'a@x.test', t0 + 100);
  assert.equal(g.blockedFor('10.0.0.3', 'a@x.test', t0 + 100), 900, 'the account is limited from any address');
  assert.equal(g.blockedFor('10.0.0.1', 'b@x.test', t0 + 100), 0, 'other accounts from that address are not');
  g.failed('10.0.0.1', 'b@x.test', t0 + 200);
  g.failed('10.0.0.1', 'c@x.test', t0 + 300);
  assert.ok(g.blockedFor('10.0.0.1', 'd@x.test', t0 + 300) > 0, 'the address is limited for every account');
  assert.equal(g.blockedFor('10.0.0.1', 'd@x.test', t0 + 1201), 0, 'old failures age out');
  g.succeeded('a@x.test');
  assert.equal(g.blockedFor('10.0.0.9', 'a@x.test', t0 + 300), 0, 'a successful login clears the account count');
});
