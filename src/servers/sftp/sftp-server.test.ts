import { test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { newHostKey } from './sftp-server.js';

test('every new SFTP host key is one ssh2 can load (it makes an unparsable ed25519 key about once in 400)', async () => {
  for (let i = 0; i < 2000; i++) {
    const parsed = ssh2.utils.parseKey(await newHostKey());
    assert.ok(!(parsed instanceof Error), `key ${i}: ${(parsed as Error).message}`);
  }
});
