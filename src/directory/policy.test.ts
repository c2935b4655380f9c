import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedFrom, parseCidr } from './policy.js';
import { OPEN_POLICY } from './types.js';

test('allow-lists: networks and single addresses, both families, IPv4-mapped clients; an empty list allows all', () => {
  const policy = { ...OPEN_POLICY, allowFrom: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'] };
  assert.equal(allowedFrom(policy, '192.0.2.200'), true);
  assert.equal(allowedFrom(policy, '::ffff:192.0.2.1'), true);
  assert.equal(allowedFrom(policy, '192.0.3.1'), false);
  assert.equal(allowedFrom(policy, '198.51.100.7'), true);
  assert.equal(allowedFrom(policy, '198.51.100.8'), false);
  assert.equal(allowedFrom(policy, '2001:db8:1::5'), true);
  assert.equal(allowedFrom(policy, '2001:db9::5'), false);
  assert.equal(allowedFrom(policy, 'garbage'), false);
  assert.equal(allowedFrom(OPEN_POLICY, '203.0.113.1'), true);
});

test('CIDR parsing refuses what is not a network, with a sentence', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/', '::/129', '10.0.0.0/8/8', '']) assert.throws(() => parseCidr(bad), /not an IP|prefix length/);
});
