/**
 * Reading whole messages back from the embedded mailbox store, the path every IMAP FETCH
 * and POP3 RETR takes once per message: the header lines, the body (inline in its row, or
 * the file it names) and whether POP3 may send it as stored.
 */
import { readFile } from 'node:fs/promises';
import type { StoredMessage } from '../../mailstore/index.js';
import { withHeader } from '../common.js';
import { sql, type Db } from './db.js';

type Row = [uid: number, header: Buffer | null, data: Buffer | null, blobId: string | null, file: string | null, sendable: number | null];

// Only the values that are there: an empty header and the file's name of an inline body come
// back NULL (no Buffer or string made for them). The folder is found in the same statement,
// so one read transaction serves the call.
const COLUMNS =
  'm.uid, nullif(m.header, zeroblob(0)), b.data, CASE WHEN b.data IS NULL THEN m.blob_id END, CASE WHEN b.data IS NULL THEN b.file END, b.sendable FROM mailboxes x JOIN messages m ON m.mailbox_id = x.id LEFT JOIN blobs b ON b.id = m.blob_id WHERE x.account_id = ? AND x.name = ?';

/** The messages `uids` of the account's folder `name` (normalized), by UID; a UID that is gone is absent. `bodyFile`: the path of a body file. */
export async function readMessages(db: Db, bodyFile: (blobId: string, file: string | null) => string, accountId: number, name: string, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
  const out = new Map<number, StoredMessage>();
  if (uids.length === 0) return out;
  const lo = Math.min(...uids);
  const hi = Math.max(...uids);
  const wanted = new Set(uids);
  // Rows as arrays. Mostly a run of UIDs (FETCH 1:*): one range scan of the primary key; else the list itself.
  const rows = (
    hi - lo < uids.length * 2
      ? sql(db, `SELECT ${COLUMNS} AND m.uid BETWEEN ? AND ?`).raw(true).all(accountId, name, lo, hi)
      : sql(db, `SELECT ${COLUMNS} AND m.uid IN (SELECT value FROM json_each(?))`).raw(true).all(accountId, name, JSON.stringify(uids))
  ) as Row[];
  for (const [uid, header, data, blobId, file, sendable] of rows) {
    if (!wanted.has(uid)) continue;
    const body = data ?? (await readFile(bodyFile(blobId!, file)));
    out.set(uid, withHeader(header, body, sendable === 1));
  }
  return out;
}
