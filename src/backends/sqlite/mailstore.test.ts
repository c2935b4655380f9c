import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SqliteMailStore } from './mailstore.js';

test('recover() removes old unreferenced body files and temp files, keeps referenced and young ones', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hikyaku-mailstore-'));
  const store = new SqliteMailStore(root, false);
  try {
    const body = Buffer.alloc(200 * 1024, 'x');
    await store.append({ accountId: 1, messageKey: 'kept00', header: Buffer.from('H: 1\r\n'), openBody: () => Readable.from([body]), bodySize: body.length, internalDate: 0, quotaBytes: 0 });
    const dir = join(root, 'blobs', '00');
    const [kept] = readdirSync(dir);
    const old = new Date(Date.now() - 3600_000);
    for (const name of ['gone00.0123456789ab', 'kept00.0123456789ab.tmp', 'crash00']) {
      writeFileSync(join(dir, name), 'orphan');
      utimesSync(join(dir, name), old, old);
    }
    writeFileSync(join(dir, 'young00.0123456789ab'), 'being written');
    utimesSync(join(dir, kept!), old, old);
    assert.deepEqual(store.recover(), { orphans: 3 });
    assert.deepEqual(readdirSync(dir).sort(), [kept!, 'young00.0123456789ab'].sort());
    const chunks: Buffer[] = [];
    for await (const c of await store.read(1, 1)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).length, 6 + body.length, 'the referenced body reads back whole');
    assert.ok(existsSync(join(dir, kept!)));
  } finally {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
