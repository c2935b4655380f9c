import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSpool } from './spool.js';

const KIB64 = 64 * 1024;

async function withSpool(run: (spool: SqliteSpool, root: string, db: Database.Database) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'hikyaku-bodylog-'));
  const spool = new SqliteSpool(root, true);
  const db = new Database(join(root, 'spool.db'));
  try {
    await run(spool, root, db);
  } finally {
    db.close();
    await spool.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function accept(spool: SqliteSpool, body: Buffer): Promise<string> {
  const w = await spool.begin();
  await w.write(body);
  await w.commit({ mailFrom: 's@x.test', recipients: ['a@x.test'], smtputf8: false });
  return w.messageId;
}

async function read(spool: SqliteSpool, id: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of spool.openBody(id)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const place = (db: Database.Database, id: string) => db.prepare('SELECT body IS NOT NULL AS inline, body_seg AS seg, body_off AS off FROM messages WHERE id = ?').get(id) as { inline: number; seg: number | null; off: number | null };

test('a body past 16 KiB goes to the body log, not into its row nor a file of its own; one of 16 KiB stays in its row', async () => {
  await withSpool(async (spool, root, db) => {
    const logged = await accept(spool, randomBytes(KIB64));
    const small = await accept(spool, randomBytes(16 * 1024));
    assert.deepEqual(place(db, logged), { inline: 0, seg: 1, off: 0 });
    assert.deepEqual(place(db, small), { inline: 1, seg: null, off: null });
    assert.deepEqual(readdirSync(join(root, 'messages')), []);
    assert.deepEqual(readdirSync(join(root, 'log')), ['1']);
  });
});

test('a log record that does not check out (body, size or id changed on disk) fails the read and never hands on other bytes', async () => {
  await withSpool(async (spool, root, db) => {
    const ids = [await accept(spool, randomBytes(KIB64)), await accept(spool, randomBytes(KIB64)), await accept(spool, randomBytes(KIB64))];
    const fd = openSync(join(root, 'log', '1'), 'r+');
    try {
      // A byte of the first body, the size of the second, the id of the third.
      for (const [i, at] of [[0, 64 + 1000], [1, 4], [2, 14]] as const) writeSync(fd, Buffer.from([0xff]), 0, 1, place(db, ids[i]!).off! + at);
    } finally {
      closeSync(fd);
    }
    for (const id of ids) await assert.rejects(read(spool, id), /does not check out/);
  });
});

test('segments are reused once their messages are gone: 2,400 messages of 64 KiB (150 MiB) pass through at most 3 segments of 32 MiB', async () => {
  await withSpool(async (spool, root) => {
    for (let round = 0; round < 24; round++) {
      const bodies = Array.from({ length: 100 }, () => randomBytes(KIB64));
      const ids = await Promise.all(bodies.map((b) => accept(spool, b)));
      const entries = await spool.lease('w', 100, 60_000);
      assert.equal(entries.length, 100);
      for (const e of entries) {
        assert.ok((await read(spool, e.messageId)).equals(bodies[ids.indexOf(e.messageId)]!));
        assert.ok(await spool.complete(e));
      }
    }
    const segments = readdirSync(join(root, 'log'));
    assert.ok(segments.length <= 3, `segments on disk: ${segments.join(', ')}`);
  });
});

test('a deferred or held message takes its body out of the log into its row, byte-exact', async () => {
  await withSpool(async (spool, _root, db) => {
    const bodies = [randomBytes(KIB64), randomBytes(100_000)];
    const [deferred, held] = [await accept(spool, bodies[0]!), await accept(spool, bodies[1]!)];
    const [e] = await spool.lease('w', 1, 60_000);
    assert.equal(e!.messageId, deferred);
    assert.ok(await spool.defer(e!, 'mailbox store down', Date.now() + 60_000));
    assert.equal(await spool.hold(await spool.select({ states: ['queued'] }, 0, 10)), 1);
    for (const id of [deferred, held]) assert.deepEqual(place(db, id!), { inline: 1, seg: null, off: null });
    assert.ok((await read(spool, deferred!)).equals(bodies[0]!));
    assert.ok((await read(spool, held!)).equals(bodies[1]!));
  });
});

test('start-up: a dead writer\'s segment is sealed and reused; free segments past two spares and files without a row are removed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hikyaku-bodylog-'));
  try {
    let spool = new SqliteSpool(root, true);
    const kept = randomBytes(KIB64);
    const id = await accept(spool, kept);
    await spool.close();
    const db = new Database(join(root, 'spool.db'));
    // As if the writer had died holding segment 1; four free segments and a stray file are left beside it.
    db.prepare('UPDATE body_segments SET owner = ?').run(`${hostname()}:999999999:dead`);
    for (let i = 0; i < 4; i++) {
      const { id: seg } = db.prepare('INSERT INTO body_segments (owner) VALUES (NULL) RETURNING id').get() as { id: number };
      writeFileSync(join(root, 'log', String(seg)), '');
    }
    writeFileSync(join(root, 'log', 'stray'), 'x');
    spool = new SqliteSpool(root, true);
    spool.recover();
    assert.deepEqual(db.prepare('SELECT id, owner FROM body_segments ORDER BY id').all(), [
      { id: 1, owner: null },
      { id: 2, owner: null },
      { id: 3, owner: null },
    ]);
    assert.deepEqual(readdirSync(join(root, 'log')).sort(), ['1', '2', '3']);
    assert.ok((await read(spool, id)).equals(kept), 'the record in the sealed segment still reads');
    // A free spare is taken next (and filled to size), not the segment a message still points at.
    const next = await accept(spool, randomBytes(KIB64));
    assert.equal(place(db, next).seg, 2);
    db.close();
    await spool.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
