import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePlain } from './plain.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('SASL PLAIN: RFC 4616 examples and broken input', () => {
  assert.deepEqual(decodePlain(b64('\0tim\0tanstaaftanstaaf')), { authzid: '', authcid: 'tim', password: 'tanstaaftanstaaf' });
  assert.deepEqual(decodePlain(b64('Ursel\0Kurt\0xipj3plmq')), { authzid: 'Ursel', authcid: 'Kurt', password: 'xipj3plmq' });
  for (const bad of ['', '!!!!', 'abc', b64('no-nuls'), b64('\0\0pw'), b64('\0user\0'), b64('a\0b\0c\0d'), Buffer.from([0, 0x61, 0, 0xff]).toString('base64')]) {
    assert.ok('error' in decodePlain(bad), JSON.stringify(bad));
  }
});
