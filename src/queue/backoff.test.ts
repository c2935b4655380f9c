import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay } from './backoff.js';

test('retry delay doubles with jitter and is capped', () => {
  assert.equal(retryDelay(1, 1000, 60_000, () => 0.5), 1000);
  assert.equal(retryDelay(3, 1000, 60_000, () => 0.5), 4000);
  assert.equal(retryDelay(3, 1000, 60_000, () => 0), 2000);
  assert.equal(retryDelay(50, 1000, 60_000, () => 0.99), 60_000);
  assert.equal(retryDelay(0, 1000, 60_000, () => 0.5), 1000);
});
