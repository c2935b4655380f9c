import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveLimiter, CircuitBreaker } from './limiter.js';

test('adaptive limit: grows on fast successes, halves on overload, stays within 1..max', () => {
  const l = new AdaptiveLimiter(8, 100, 2);
  for (let i = 0; i < 100; i++) l.onSuccess(5);
  assert.equal(l.limit, 8);
  l.onOverload();
  assert.equal(l.limit, 4);
  l.onSuccess(500);
  assert.equal(l.limit, 2);
  for (let i = 0; i < 5; i++) l.onOverload();
  assert.equal(l.limit, 1);
});

test('circuit breaker: opens after the threshold, lets one probe through after the cooldown', () => {
  const b = new CircuitBreaker(3, 100, 1000, 10_000);
  const t0 = 1_000_000;
  b.onFailure(t0);
  b.onFailure(t0);
  assert.equal(b.allowance(t0).n, Infinity);
  b.onFailure(t0);
  assert.equal(b.allowance(t0 + 50).n, 0);
  assert.equal(b.allowance(t0 + 100).n, 1);
  assert.equal(b.allowance(t0 + 100).n, 0, 'one probe at a time');
  b.onFailure(t0 + 110);
  assert.equal(b.waitMs(t0 + 110), 200, 'cooldown doubled');
  assert.equal(b.allowance(t0 + 310).n, 1);
  b.onSuccess();
  assert.equal(b.allowance(t0 + 310).n, Infinity);
});

test('circuit breaker: a probe that never reached the store does not keep it shut', () => {
  const b = new CircuitBreaker(1, 100, 1000, 5_000);
  const t0 = 1_000_000;
  b.onFailure(t0);
  const first = b.allowance(t0 + 100);
  assert.equal(first.n, 1);
  // Nothing was due when the probe leased: it is cancelled, and the next attempt probes.
  b.cancelProbe(first.probe);
  assert.equal(b.waitMs(t0 + 100), 0);
  const second = b.allowance(t0 + 100);
  assert.equal(second.n, 1);
  // A late cancel of an older probe leaves the current one alone.
  b.cancelProbe(first.probe);
  assert.equal(b.allowance(t0 + 100).n, 0);
  // A probe nobody settles expires.
  assert.ok(b.waitMs(t0 + 200) > 0);
  assert.equal(b.waitMs(t0 + 100 + 5_000), 0);
  assert.equal(b.allowance(t0 + 100 + 5_000).n, 1);
});
