/**
 * Appends into the PostgreSQL mailbox store, many at once (see Batcher): two round trips
 * and no explicit transaction, so mailbox rows are locked only while the one writing
 * statement runs, and delivery nodes appending to the same mailboxes barely wait for
 * each other, however far away the database is.
 *
 * 1. A read: each mailbox (made on first use) with its bytes, and which keys it already
 *    holds or held (messages expunged lately must not come back).
 * 2. One statement, atomic by itself: the mailboxes locked in id order (two nodes never
 *    deadlock), quotas checked again under the lock, UIDs taken, the messages inserted and
 *    the bodies stored or their references counted.
 *
 * Two nodes appending the same key to one mailbox at once: the second statement breaks
 * the unique key, and the Batcher runs the batch again, whose read then finds it.
 *
 * With a BlobStore, bodies are put there before the statement (the row keeps the object's
 * name in `location`, `data` stays NULL); an object the statement is known not to have
 * used is deleted, any other leftover is the start-up sweep's.
 */
import { sql, type Kysely } from 'kysely';
import { HikyakuError } from '../../mail/index.js';
import { randomBytes } from 'node:crypto';
import type { AppendInput, BlobStore } from '../../mailstore/index.js';
import type { Outcome } from './batcher.js';
import { readAppendBody } from '../common.js';
import { sendsAsStored } from '../../pop3/index.js';

type Appended = { uid: number; duplicate: boolean };

import { INBOX } from './mail-folders.js';

interface Mailbox {
  readonly id: number;
  readonly bytes: number;
}

/**
 * Step 1: the accounts' mailboxes and the keys they know, read only (no commit to wait for);
 * mailboxes not there yet are made (on first delivery) and the read is done again.
 */
async function look(db: Kysely<any>, inputs: readonly AppendInput[]): Promise<{ boxes: Map<number, Mailbox>; known: Map<string, number> }> {
  const boxes = new Map<number, Mailbox>();
  const known = new Map<string, number>();
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await sql<{ kind: 'box' | 'seen'; account_id: number; n: number; bytes: number; key: string | null }>`
      WITH want(a, k) AS (SELECT * FROM unnest(${inputs.map((i) => i.accountId)}::bigint[], ${inputs.map((i) => i.messageKey)}::text[])),
           boxes AS (SELECT id, account_id, (SELECT sum(x.bytes) FROM mail_mailboxes x WHERE x.account_id = b.account_id)::bigint AS bytes
                     FROM mail_mailboxes b WHERE name = ${INBOX} AND account_id IN (SELECT a FROM want))
      SELECT 'box' AS kind, account_id, id AS n, bytes, NULL::text AS key FROM boxes
      UNION ALL SELECT 'seen', b.account_id, m.uid, 0, m.message_key FROM boxes b JOIN want w ON w.a = b.account_id JOIN mail_messages m ON m.mailbox_id = b.id AND m.message_key = w.k
      UNION ALL SELECT 'seen', b.account_id, x.uid, 0, x.message_key FROM boxes b JOIN want w ON w.a = b.account_id JOIN mail_expunged x ON x.mailbox_id = b.id AND x.message_key = w.k`.execute(db);
    for (const row of r.rows) {
      if (row.kind === 'box') boxes.set(row.account_id, { id: row.n, bytes: row.bytes });
      else known.set(`${row.account_id} ${row.key}`, row.n);
    }
    const missing = [...new Set(inputs.map((i) => i.accountId).filter((a) => !boxes.has(a)))];
    if (missing.length === 0) return { boxes, known };
    await sql`INSERT INTO mail_mailboxes (account_id, name, uid_validity) SELECT a, ${INBOX}, ${Math.floor(Date.now() / 1000)}::bigint FROM unnest(${missing}::bigint[]) AS a
              ON CONFLICT (account_id, name) DO NOTHING`.execute(db);
  }
  throw new HikyakuError('ERR_STORE_FAILED', 'a mailbox being made by another node did not show');
}

/** Appends `inputs`; one outcome per input, in order. An over-quota append or an unreadable body fails alone. */
export async function appendBatch(db: Kysely<any>, inputs: readonly AppendInput[], bodies?: BlobStore): Promise<Outcome<Appended>[]> {
  const out: Outcome<Appended>[] = new Array(inputs.length);
  const read = await Promise.all(inputs.map((i) => readAppendBody(i).catch((err: unknown) => err as Error)));
  const readable = inputs.filter((_, i) => !(read[i] instanceof Error));
  read.forEach((b, i) => b instanceof Error && (out[i] = { error: b }));
  if (readable.length === 0) return out;
  const { boxes, known } = await look(db, readable);

  // What goes in: per mailbox, in order, what fits its quota as last read (checked again under the lock).
  const groups = new Map<number, { id: number; n: number; bytes: number; quota: number }>();
  const rows: { box: number; pos: number; key: string; header: Buffer; size: number; date: number }[] = [];
  const blobs = new Map<string, { size: number; data: Buffer }>();
  const later: number[] = [];
  const over = (bytes: number, quota: number) => new HikyakuError('ERR_QUOTA_EXCEEDED', `${bytes} bytes would exceed the quota of ${quota}`);
  inputs.forEach((input, i) => {
    const body = read[i];
    if (body instanceof Error) return;
    const seenKey = `${input.accountId} ${input.messageKey}`;
    const was = known.get(seenKey);
    if (was !== undefined) return void (out[i] = { ok: { uid: was, duplicate: true } });
    if (rows.some((r) => r.key === input.messageKey && r.box === boxes.get(input.accountId)!.id)) return void later.push(i);
    const box = boxes.get(input.accountId)!;
    const g = groups.get(box.id) ?? { id: box.id, n: 0, bytes: 0, quota: 0 };
    const size = input.header.length + input.bodySize;
    if (input.quotaBytes > 0 && box.bytes + g.bytes + size > input.quotaBytes) return void (out[i] = { error: over(box.bytes + g.bytes + size, input.quotaBytes) });
    rows.push({ box: box.id, pos: g.n, key: input.messageKey, header: input.header, size, date: input.internalDate });
    g.n++;
    g.bytes += size;
    // The smallest quota of the group's appends is the one checked under the lock.
    if (input.quotaBytes > 0) g.quota = g.quota === 0 ? input.quotaBytes : Math.min(g.quota, input.quotaBytes);
    groups.set(box.id, g);
    if (!blobs.has(input.messageKey)) blobs.set(input.messageKey, { size: input.bodySize, data: body! });
  });

  const stored = new Map<string, number>();
  if (rows.length > 0) {
    const g = [...groups.values()];
    const keys = [...blobs.keys()].sort();
    // Bodies kept elsewhere are put first, each under a name of its own (see BlobStore).
    const names = new Map(keys.map((k) => [k, bodies ? `${k}.${randomBytes(6).toString('hex')}` : null]));
    if (bodies) await Promise.all(keys.map((k) => bodies.put(names.get(k)!, blobs.get(k)!.data)));
    // Bodies and headers as parameters of their own: pg sends a Buffer as binary (an array of them would go as hex text).
    const r = await sql<{ kind: 'message' | 'body'; mailbox_id: number; message_key: string; uid: number; location: string | null }>`
      WITH locked AS (SELECT id FROM mail_mailboxes WHERE id = ANY(${g.map((x) => x.id)}::bigint[]) ORDER BY id FOR UPDATE),
           grow(id, n, bytes, quota) AS (SELECT * FROM unnest(${g.map((x) => x.id)}::bigint[], ${g.map((x) => x.n)}::int[], ${g.map((x) => x.bytes)}::bigint[], ${g.map((x) => x.quota)}::bigint[])),
           taken AS (UPDATE mail_mailboxes b SET uid_next = b.uid_next + grow.n, messages = b.messages + grow.n, bytes = b.bytes + grow.bytes, highest_modseq = b.highest_modseq + 1
                     FROM grow JOIN locked USING (id)
                     -- The INBOX's bytes from the locked row (re-read after a wait), the other folders' from the snapshot.
                     WHERE b.id = grow.id AND (grow.quota = 0 OR b.bytes + (SELECT coalesce(sum(x.bytes), 0) FROM mail_mailboxes x WHERE x.account_id = b.account_id AND x.id <> b.id) + grow.bytes <= grow.quota)
                     RETURNING b.id, b.uid_next - grow.n AS first, b.highest_modseq AS modseq),
           incoming(box, pos, key, header, size, date) AS (VALUES ${sql.join(rows.map((x) => sql`(${x.box}::bigint, ${x.pos}::int, ${x.key}::text, ${x.header}::bytea, ${x.size}::bigint, ${x.date}::bigint)`))}),
           added AS (INSERT INTO mail_messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, modseq)
                     SELECT i.box, t.first + i.pos, i.key, i.key, i.header, i.size, i.date, t.modseq FROM incoming i JOIN taken t ON t.id = i.box
                     RETURNING mailbox_id, message_key, uid),
           refs AS (SELECT message_key, count(*)::int AS n FROM added GROUP BY message_key),
           body(id, size, data, location, sendable) AS (VALUES ${sql.join(keys.map((k) => sql`(${k}::text, ${blobs.get(k)!.size}::bigint, ${bodies ? null : blobs.get(k)!.data}::bytea, ${names.get(k)}::text, ${sendsAsStored(blobs.get(k)!.data)}::boolean)`))}),
           kept AS (INSERT INTO mail_blobs (id, size, refs, data, location, sendable) SELECT b.id, b.size, refs.n, b.data, b.location, b.sendable FROM body b JOIN refs ON refs.message_key = b.id ORDER BY b.id
                    ON CONFLICT (id) DO UPDATE SET refs = mail_blobs.refs + excluded.refs RETURNING id, location)
      SELECT 'message' AS kind, mailbox_id, message_key, uid, NULL::text AS location FROM added
      UNION ALL SELECT 'body', 0, id, 0, location FROM kept`.execute(db);
    // A failed statement leaves its objects: it may have committed before the connection broke, and only the sweep at start may tell.
    const used = new Set<string>();
    for (const x of r.rows) {
      if (x.kind === 'message') stored.set(`${x.mailbox_id} ${x.message_key}`, x.uid);
      else if (x.location) used.add(x.location);
    }
    // A body another append had stored already, or one no message needed (its mailbox was full): ours is not referred to.
    if (bodies) await bodies.delete(keys.map((k) => names.get(k)!).filter((n) => !used.has(n))).catch(() => undefined);
  }
  inputs.forEach((input, i) => {
    if (out[i] !== undefined) return;
    const uid = stored.get(`${boxes.get(input.accountId)!.id} ${input.messageKey}`);
    if (uid === undefined) out[i] = { error: new HikyakuError('ERR_QUOTA_EXCEEDED', `the mailbox reached its quota of ${input.quotaBytes} bytes meanwhile`) };
    else out[i] = { ok: { uid, duplicate: later.includes(i) } };
  });
  return out;
}
