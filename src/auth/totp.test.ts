import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTotpSecret, totpCode, totpUri, verifyTotp } from './totp.js';

// RFC 6238 Appendix B: the SHA-1 test secret "12345678901234567890" in base32, 8-digit values; our 6 digits are their last six.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('RFC 6238 Appendix B test vectors (SHA-1), as six digits', () => {
  for (const [seconds, value] of [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037']] as const) {
    assert.equal(totpCode(RFC_SECRET, Math.floor(seconds / 30)), value.slice(-6), `T=${seconds}`);
  }
});

test('verification takes the step before and after, nothing else, and refuses what is not six digits', () => {
  const secret = newTotpSecret();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const now = 1_800_000_000_000;
  const step = Math.floor(now / 30_000);
  assert.equal(verifyTotp(secret, totpCode(secret, step), now), step);
  assert.equal(verifyTotp(secret, totpCode(secret, step - 1), now), step - 1);
  assert.equal(verifyTotp(secret, totpCode(secret, step + 1), now), step + 1);
  assert.equal(verifyTotp(secret, totpCode(secret, step - 2), now), undefined);
  for (const bad of ['', '12345', '1234567', 'abcdef', '12 34 56']) assert.equal(verifyTotp(secret, bad, now), undefined);
  assert.equal(totpUri(secret, 'a@b.test', 'Hikyaku'), `otpauth://totp/Hikyaku%3Aa%40b.test?secret=${secret}&issuer=Hikyaku&algorithm=SHA1&digits=6&period=30`);
});
