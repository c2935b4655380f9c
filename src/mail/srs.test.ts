import { test } from 'node:test';
import assert from 'node:assert/strict';
import { srsDecode, srsEncode } from './srs.js';

const SECRET = 'test-secret';

test('an SRS0 address round-trips, in any case, and keeps odd local parts', () => {
  for (const sender of ['alice@example.org', 'a.b+tag@Sub.Example.org', 'x=y@ex.test']) {
    const srs = srsEncode(sender, 'fwd.test', SECRET);
    assert.match(srs, /^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=[^=]+=.+@fwd\.test$/);
    const expected = sender.slice(0, sender.lastIndexOf('@')) + sender.slice(sender.lastIndexOf('@')).toLowerCase();
    assert.deepEqual(srsDecode(srs, SECRET), { sender: expected });
    assert.deepEqual(srsDecode(srs.toLowerCase(), SECRET), { sender: expected.toLowerCase() });
  }
});

test('forged, foreign and expired SRS addresses are refused', () => {
  const srs = srsEncode('alice@example.org', 'fwd.test', SECRET);
  assert.deepEqual(srsDecode(srs, 'other-secret'), { error: 'SRS hash does not match' });
  assert.deepEqual(srsDecode(srs.replace('alice', 'mallory'), SECRET), { error: 'SRS hash does not match' });
  assert.deepEqual(srsDecode('SRS0=abc@fwd.test', SECRET), { error: 'not an SRS address' });
  assert.deepEqual(srsDecode('alice@fwd.test', SECRET), { error: 'not an SRS address' });
  const old = srsEncode('alice@example.org', 'fwd.test', SECRET, Date.now() - 30 * 86_400_000);
  assert.deepEqual(srsDecode(old, SECRET), { error: 'SRS address has expired' });
  const recent = srsEncode('alice@example.org', 'fwd.test', SECRET, Date.now() - 20 * 86_400_000);
  assert.ok('sender' in srsDecode(recent, SECRET));
});
