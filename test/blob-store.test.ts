import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FileBlobStore } from '../src/backends/files/index.js';
import { PgMailStore } from '../src/backends/postgres/index.js';
import { appendInput, mailboxMessages, removeDir, tempDir } from './helpers/service.js';
import { TEST_PG_URL, dropSchemas, pgStoreUrl } from './helpers/postgres.js';

const skip = process.env.HIKYAKU_TEST_BACKEND && process.env.HIKYAKU_TEST_BACKEND !== 'postgres' ? 'PostgreSQL is not under test' : false;

/** Every file under the blob directory, by name. */
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub))) : []).sort();

test('bodies in files beside a PostgreSQL mailbox store: a file per stored body, none in the database, gone with the last message that needs it, orphans swept at start', { skip }, async () => {
  const dir = tempDir();
  const bodies = join(dir, 'bodies');
  const { url, schema } = pgStoreUrl();
  const store = new PgMailStore(url, {}, undefined, new FileBlobStore(bodies));
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    const body = 'kept outside\r\n'.repeat(100);
    const a = await store.append(appendInput(1, 'k1', body));
    await store.append(appendInput(2, 'k1', body));
    await store.append(appendInput(1, 'k2', 'second\r\n'));
    assert.equal(files(bodies).length, 2, 'one file per body, however many mailboxes have it');
    assert.ok(files(bodies).every((f) => /^k[12]\.[0-9a-f]{12}$/.test(f)), files(bodies).join(' '));
    const rows = await admin.query(`SELECT id, data IS NULL AS outside, location FROM ${schema}.mail_blobs ORDER BY id`);
    assert.deepEqual(rows.rows.map((r) => [r.id, r.outside]), [['k1', true], ['k2', true]], 'no body bytes in the database');
    assert.deepEqual(await mailboxMessages(store, 1), [`Delivered-To: 1\r\n${body}`, 'Delivered-To: 1\r\nsecond\r\n']);

    await store.expunge(1, [a.uid]);
    assert.equal(files(bodies).length, 2, 'mailbox 2 still has the first body');
    await store.expunge(2, (await store.list(2)).map((e) => e.uid));
    assert.deepEqual(files(bodies), [rows.rows[1].location], "the first body's file went with its last message");

    // Left over from a crash between writing a body and committing its row, an hour ago; and one written just now.
    const old = join(bodies, 'ab', 'lost.0123456789ab');
    mkdirSync(join(bodies, 'ab'), { recursive: true });
    writeFileSync(old, 'orphan');
    const hourAgo = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(old, hourAgo, hourAgo);
    writeFileSync(join(bodies, 'ab', 'fresh.0123456789ab'), 'maybe committing now');
    const needed: string = rows.rows[1].location;
    utimesSync(join(bodies, needed.slice(-2), needed), hourAgo, hourAgo); // old too, and still named by a row
    assert.deepEqual(await store.recover(), { orphans: 1 });
    assert.equal(existsSync(old), false, 'the old orphan is swept');
    assert.ok(existsSync(join(bodies, 'ab', 'fresh.0123456789ab')), 'a recent file is left alone: its row may be committing');
    assert.deepEqual(await mailboxMessages(store, 1), ['Delivered-To: 1\r\nsecond\r\n'], 'a body still needed is kept');
  } finally {
    await admin.end();
    await store.close();
    await dropSchemas([schema]);
    removeDir(dir);
  }
});

test('the file body store refuses names that are not plain (no paths, no dot files)', async () => {
  const dir = tempDir();
  const blobs = new FileBlobStore(dir);
  try {
    for (const name of ['../escape', 'a/b', '.hidden', '', 'x'.repeat(300), 'nul\0byte']) {
      await assert.rejects(blobs.put(name, Buffer.from('x')), /not a body name/, JSON.stringify(name));
    }
    await blobs.put('fine.0a', Buffer.from('ok'));
    assert.equal((await blobs.get('fine.0a')).toString(), 'ok');
    await blobs.delete(['fine.0a', 'never.00']);
    await assert.rejects(blobs.get('fine.0a'), { code: 'ENOENT' });
  } finally {
    removeDir(dir);
  }
});
