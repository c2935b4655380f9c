import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseRateLimiter } from './rate-limit.js';

test('response rate limiting: a budget per client network, every second excess answer truncated, refilled over time, loopback exempt', () => {
  const rrl = new ResponseRateLimiter(10, 2);
  const at = 1_000_000;
  const burst = Array.from({ length: 30 }, (_, i) => rrl.decide(`192.0.2.${i % 5}`, at));
  assert.equal(burst.filter((v) => v === 'send').length, 10, 'the /24 shares one budget');
  assert.equal(burst.filter((v) => v === 'truncate').length, 10);
  assert.equal(burst.filter((v) => v === 'drop').length, 10);
  assert.equal(rrl.decide('198.51.100.1', at), 'send', 'another network has its own');
  assert.equal(rrl.decide('192.0.2.9', at + 500), 'send', 'half a second refills half the budget');
  assert.equal(rrl.decide('2001:db8:1:2::1', at), 'send');
  for (let i = 0; i < 20; i++) rrl.decide('2001:db8:1:2::7', at);
  assert.notEqual(rrl.decide('2001:db8:1:2:ff::9', at), 'send', 'IPv6 counts per /56-ish prefix');
  assert.ok(Array.from({ length: 100 }, () => rrl.decide('127.0.0.1', at)).every((v) => v === 'send'), 'loopback is never limited');
  const off = new ResponseRateLimiter(0);
  assert.ok(Array.from({ length: 100 }, () => off.decide('192.0.2.1', at)).every((v) => v === 'send'), '0: no limit');
});
