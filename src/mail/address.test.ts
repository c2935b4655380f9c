import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, loginKey, normalizeAddress, parseDomain } from './address.js';

test('normalization: domain and local part lower-cased, IDN to A-labels', () => {
  assert.equal(normalizeAddress('Alice@Example.COM'), 'alice@example.com');
  assert.equal(normalizeAddress('user+tag@example.com'), 'user+tag@example.com');
  assert.equal(normalizeAddress('山田@例え.jp'), '山田@xn--r8jz45g.jp');
  assert.equal(parseDomain('Example.com.'), 'example.com');
});

test('invalid addresses are refused with a sentence', () => {
  for (const bad of ['', 'plain', '@example.com', 'a@', 'a@b', 'a@-x.com', 'a..b@example.com', '.a@example.com', 'a b@example.com', 'a\0b@example.com', 'x'.repeat(65) + '@example.com', 'a@' + 'x'.repeat(64) + '.com']) {
    assert.throws(() => normalizeAddress(bad), AddressError, bad);
  }
});

test('a login name with % for @ is the same account; other names are parsed as addresses', () => {
  assert.equal(loginKey('Taro%Example.co.jp'), 'taro@example.co.jp');
  assert.equal(loginKey(' taro@example.co.jp '), 'taro@example.co.jp');
  // An @ present: the % is part of the local part, as RFC 5321 allows.
  assert.equal(loginKey('a%b@example.com'), 'a%b@example.com');
  assert.throws(() => loginKey('%example.com'), AddressError);
  assert.throws(() => loginKey('taro%'), AddressError);
  assert.throws(() => loginKey('taro'), AddressError);
});
