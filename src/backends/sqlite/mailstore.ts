import { createReadStream, createWriteStream, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HikyakuError } from '../../mail/index.js';
import { delegateFolderCalls, type AppendInput, type FolderStore, type MailboxEntry, type MailboxStatus, type Maildrop, type MailStore } from '../../mailstore/index.js';
import { GroupCommitter, openDb, sql, type Db } from './db.js';
import { DirSyncer, INLINE_BODY_MAX, sendableColumn } from './files.js';
import { readAppendBody } from '../common.js';
import { INBOX, SqliteFolders } from './mail-folders.js';

const MIGRATIONS = [
  `CREATE TABLE mailboxes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     account_id INTEGER NOT NULL,
     name TEXT NOT NULL,
     uid_validity INTEGER NOT NULL,
     uid_next INTEGER NOT NULL DEFAULT 1,
     messages INTEGER NOT NULL DEFAULT 0,
     bytes INTEGER NOT NULL DEFAULT 0,
     UNIQUE (account_id, name));
   CREATE TABLE blobs (id TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL);
   CREATE TABLE messages (
     mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
     uid INTEGER NOT NULL,
     message_key TEXT NOT NULL,
     blob_id TEXT NOT NULL REFERENCES blobs(id),
     header BLOB NOT NULL,
     size INTEGER NOT NULL,
     internal_date INTEGER NOT NULL,
     flags TEXT NOT NULL DEFAULT '',
     PRIMARY KEY (mailbox_id, uid),
     UNIQUE (mailbox_id, message_key));`,
  // Small bodies inline (see INLINE_BODY_MAX); NULL: the body is the file blobs/xx/<id>.
  `ALTER TABLE blobs ADD COLUMN data BLOB;`,
  // The body file's own name (blobs/xx/<file>), new for every write, so that a file being
  // removed with its last reference is never the one a concurrent append refers to.
  // NULL with no data: the older name, the blob id. Keys of expunged messages are kept for
  // a while, so a repeated delivery does not bring a deleted message back.
  `ALTER TABLE blobs ADD COLUMN file TEXT;
   CREATE TABLE expunged (
     mailbox_id INTEGER NOT NULL,
     message_key TEXT NOT NULL,
     uid INTEGER NOT NULL,
     expunged_at INTEGER NOT NULL,
     PRIMARY KEY (mailbox_id, message_key));
   CREATE INDEX expunged_at ON expunged(expunged_at);`,
  // Folders for IMAP (see mail-folders.ts): special use, subscriptions, modification
  // sequences (RFC 7162) on folders, messages and expunged UIDs; `prepared`: the INBOX's
  // account got its special-use folders. mail_meta holds the last UIDVALIDITY given.
  `ALTER TABLE mailboxes ADD COLUMN special_use TEXT;
   ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE mailboxes ADD COLUMN highest_modseq INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE mailboxes ADD COLUMN prepared INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE expunged ADD COLUMN modseq INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
   CREATE TABLE mail_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);`,
  // 1: the body was found, when stored, to need no dot-stuffing or line ending repair to be
  // sent by POP3 (StoredMessage.sendable); NULL: not known (a body stored before, or a file).
  `ALTER TABLE blobs ADD COLUMN sendable INTEGER;`,
];

// SQLite's own ceiling for a map (SQLITE_MAX_MMAP_SIZE); a larger file is read past it as before.
const MAILSTORE_MMAP_BYTES = 0x7fff0000;
const MAILSTORE_CHECKPOINT_PAGES = 4000;

/** Keys of expunged messages are kept this long by default: past the longest queue lifetime. */
export const DEFAULT_KEY_RETENTION_MS = 7 * 86_400_000;

// Unreferenced body files and temp files older than this are swept by recover().
const ORPHAN_AGE_MS = 10 * 60 * 1000;

/** Thrown inside a commit when the body a caller meant to share vanished meanwhile; the append writes its own and retries. */
class BlobGone extends Error {}

/**
 * The embedded mailbox store: index in `mail/mailstore.db`, bodies as immutable blob
 * files under `mail/blobs/xx/`. A message body delivered to several mailboxes is stored
 * once; each mailbox entry keeps its own header lines (Return-Path, Delivered-To).
 */
// Its FolderStore calls are mail-folders.ts's (delegateFolderCalls).
export interface SqliteMailStore extends FolderStore {}

export class SqliteMailStore implements MailStore {
  private readonly db: Db;
  private readonly blobDir: string;
  private readonly committer: GroupCommitter;
  private readonly dirs: DirSyncer;
  private readonly knownDirs = new Set<string>();
  private readonly f: SqliteFolders;

  /**
   * `keyRetentionMs`: how long an expunged message's key still makes its re-delivery a
   * duplicate. `busyTimeoutMs`: how long a call waits for another connection's write lock;
   * SQLite blocks the calling thread meanwhile.
   */
  constructor(
    root: string,
    private readonly fsync: boolean,
    private readonly keyRetentionMs = DEFAULT_KEY_RETENTION_MS,
    busyTimeoutMs = 5000,
  ) {
    this.blobDir = join(root, 'blobs');
    mkdirSync(this.blobDir, { recursive: true });
    this.db = openDb(join(root, 'mailstore.db'), MIGRATIONS, busyTimeoutMs);
    // Pages are read through a memory map, not a read() and a copy each: RETR and FETCH read
    // every message's pages, and this takes a fifth off IMAP's CPU per message. A disk error
    // under the map ends the process (SIGBUS) where read() would have failed the call; what
    // was committed is in the WAL and the database either way.
    this.db.pragma(`mmap_size = ${MAILSTORE_MMAP_BYTES}`);
    // A checkpoint every 16 MiB of WAL instead of SQLite's 4 MiB: each one stops the delivery
    // thread for two fsyncs (the WAL, then the database; ~8 ms under load), and a page that
    // changes in every append (the mailbox's row) is copied once per checkpoint. Measured:
    // end to end +8–15% at 4 KiB, within the noise at 64 KiB.
    this.db.pragma(`wal_autocheckpoint = ${MAILSTORE_CHECKPOINT_PAGES}`);
    this.dirs = new DirSyncer(fsync);
    this.committer = new GroupCommitter(this.db, (d) => this.dirs.sync(d));
    // FolderStore (IMAP): see mail-folders.ts.
    this.f = new SqliteFolders({
      db: this.db,
      committer: this.committer,
      keyRetentionMs,
      blobPath: (id, file) => this.blobPath(id, file),
      writeBody: (id, data) => this.writeBlob(id, () => Readable.from([data])),
    });
    delegateFolderCalls(this, this.f);
  }


  /** Where a body file lives: blobs/<last two characters of the blob id>/<file>. */
  private blobPath(id: string, file: string | null = id): { dir: string; path: string } {
    const dir = join(this.blobDir, id.slice(-2));
    return { dir, path: join(dir, file ?? id) };
  }

  private mailboxId(accountId: number): number {
    const find = sql(this.db, 'SELECT id FROM mailboxes WHERE account_id = ? AND name = ?');
    let row = find.get(accountId, INBOX) as { id: number } | undefined;
    if (!row) {
      // UIDVALIDITY: the creation time in seconds (RFC 3501 §2.3.1.1 suggests a time-based value).
      sql(this.db, 'INSERT INTO mailboxes (account_id, name, uid_validity) VALUES (?, ?, ?)').run(accountId, INBOX, Math.floor(Date.now() / 1000));
      row = find.get(accountId, INBOX) as { id: number };
    }
    return row.id;
  }

  /** The quota counts every folder of the account. */
  private checkQuota(input: AppendInput, size: number): void {
    this.f.checkQuota(input.accountId, size, input.quotaBytes);
  }

  async append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    const existing = this.findUid(input.accountId, input.messageKey);
    if (existing !== undefined) return { uid: existing, duplicate: true };
    const size = input.header.length + input.bodySize;
    // Checked here to spare writing a body that cannot go in, and again in the commit, where appends running together are counted.
    this.checkQuota(input, size);
    const blobId = input.messageKey;
    const inline = input.bodySize <= INLINE_BODY_MAX ? await readAppendBody(input) : undefined;
    // A large body already stored (another mailbox has it) is shared, not written again.
    let file = inline || sql(this.db, 'SELECT 1 FROM blobs WHERE id = ?').get(blobId) ? undefined : await this.writeBlob(blobId, input.openBody);
    for (;;) {
      try {
        return await this.commitAppend(input, size, blobId, inline, file);
      } catch (err) {
        if (!(err instanceof BlobGone)) throw err;
        // The shared body was expunged between our look and our commit: store our own.
        file = await this.writeBlob(blobId, input.openBody);
      }
    }
  }

  /**
   * The append's one transaction: the reference to the body and the mailbox entry commit
   * together with the check that the body row exists, so an expunge can never remove a
   * file that this append then refers to. A body file we wrote but did not need is removed.
   */
  private async commitAppend(input: AppendInput, size: number, blobId: string, inline: Buffer | undefined, file: string | undefined): Promise<{ uid: number; duplicate: boolean }> {
    let result: { uid: number; duplicate: boolean } = { uid: 0, duplicate: true };
    let usedFile = false;
    // Looked at before the commit, not inside it: the group commit holds the write lock.
    const sendable = sendableColumn(inline);
    try {
      await this.committer.run(
        () => {
          const mailboxId = this.mailboxId(input.accountId);
          const again = this.findUid(input.accountId, input.messageKey);
          if (again !== undefined) {
            result = { uid: again, duplicate: true };
            return;
          }
          this.checkQuota(input, size);
          const shared = sql(this.db, 'UPDATE blobs SET refs = refs + 1 WHERE id = ? RETURNING id').get(blobId);
          if (!shared) {
            if (!inline && !file) throw new BlobGone();
            sql(this.db, 'INSERT INTO blobs (id, size, refs, data, file, sendable) VALUES (?, ?, 1, ?, ?, ?)').run(blobId, input.bodySize, inline ?? null, file ?? null, sendable);
            usedFile = file !== undefined;
          }
          const { uid, modseq } = sql(
            this.db,
            'UPDATE mailboxes SET uid_next = uid_next + 1, messages = messages + 1, bytes = bytes + ?, highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING uid_next - 1 AS uid, highest_modseq AS modseq',
          ).get(size, mailboxId) as { uid: number; modseq: number };
          sql(this.db, 'INSERT INTO messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
            mailboxId,
            uid,
            input.messageKey,
            blobId,
            input.header,
            size,
            input.internalDate,
            modseq,
          );
          result = { uid, duplicate: false };
        },
        file ? this.blobPath(blobId, file).dir : undefined,
      );
    } finally {
      if (file && !usedFile) await unlink(this.blobPath(blobId, file).path).catch(() => undefined);
    }
    return result;
  }

  /** The message's UID, also when it was expunged lately (then it must not come back). */
  private findUid(accountId: number, messageKey: string): number | undefined {
    const row = sql(
      this.db,
      `SELECT m.uid FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? AND b.name = ? AND m.message_key = ?
       UNION ALL SELECT x.uid FROM expunged x JOIN mailboxes b ON b.id = x.mailbox_id WHERE b.account_id = ? AND b.name = ? AND x.message_key = ?`,
    ).get(accountId, INBOX, messageKey, accountId, INBOX, messageKey) as { uid: number } | undefined;
    return row?.uid;
  }

  /** Writes a large body to a new file of its own (temp file, fsync, rename); returns its name. */
  private async writeBlob(blobId: string, openBody: () => Readable): Promise<string> {
    const file = `${blobId}.${randomBytes(6).toString('hex')}`;
    const { dir, path } = this.blobPath(blobId, file);
    if (!this.knownDirs.has(dir)) {
      // A new directory's own name must survive a crash too: fsync its parent.
      if (mkdirSync(dir, { recursive: true }) !== undefined) await this.dirs.sync(this.blobDir);
      this.knownDirs.add(dir);
    }
    const tmp = `${path}.tmp`;
    try {
      await pipeline(openBody(), createWriteStream(tmp));
      if (this.fsync) {
        const h = await open(tmp, 'r+');
        try {
          await h.datasync();
        } finally {
          await h.close();
        }
      }
      // rename is atomic: readers see the whole blob or none; the directory fsync follows in the group commit.
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return file;
  }

  /**
   * Start-up housekeeping: body files no row refers to (a crash between writing and
   * committing, or between an expunge's commit and its unlink) and temp files are removed
   * once older than a few minutes; keys of messages expunged long ago are forgotten.
   */
  recover(): { orphans: number } {
    const known = sql(this.db, 'SELECT 1 FROM blobs WHERE id = ? AND coalesce(file, id) = ? AND data IS NULL');
    let orphans = 0;
    for (const sub of readdirSync(this.blobDir)) {
      const dir = join(this.blobDir, sub);
      for (const name of readdirSync(dir)) {
        const id = name.replace(/\.tmp$/, '').replace(/\.[0-9a-f]{12}$/, '');
        if (!name.endsWith('.tmp') && known.get(id, name)) continue;
        const path = join(dir, name);
        if (Date.now() - statSync(path).mtimeMs > ORPHAN_AGE_MS) {
          unlinkSync(path);
          orphans++;
        }
      }
    }
    sql(this.db, 'DELETE FROM expunged WHERE expunged_at < ?').run(Date.now() - this.keyRetentionMs);
    return { orphans };
  }

  async status(accountId: number): Promise<MailboxStatus> {
    const row = sql(this.db, 'SELECT uid_validity, uid_next, messages, bytes, (SELECT sum(bytes) FROM mailboxes WHERE account_id = ?) AS used FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, accountId, INBOX) as
      | { uid_validity: number; uid_next: number; messages: number; bytes: number; used: number }
      | undefined;
    if (!row) return { uidValidity: 0, uidNext: 1, messages: 0, bytes: 0, usedBytes: 0 };
    return { uidValidity: row.uid_validity, uidNext: row.uid_next, messages: row.messages, bytes: row.bytes, usedBytes: row.used };
  }

  async list(accountId: number): Promise<MailboxEntry[]> {
    const rows = sql(this.db, 'SELECT m.uid, m.size, m.internal_date, m.flags FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? AND b.name = ? ORDER BY m.uid')
      .all(accountId, INBOX) as { uid: number; size: number; internal_date: number; flags: string }[];
    return rows.map((r) => ({ uid: r.uid, size: r.size, internalDate: r.internal_date, flags: r.flags ? r.flags.split(' ') : [] }));
  }

  async maildrop(accountId: number): Promise<Maildrop> {
    // One read transaction; two plucked columns, so no object or array is made per message.
    return this.db.transaction(() => {
      const box = sql(this.db, 'SELECT id, uid_validity FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, INBOX) as { id: number; uid_validity: number } | undefined;
      if (!box) return { uidValidity: 0, uids: [], sizes: [] };
      const uids = sql(this.db, 'SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid').pluck(true).all(box.id) as number[];
      const sizes = sql(this.db, 'SELECT size FROM messages WHERE mailbox_id = ? ORDER BY uid').pluck(true).all(box.id) as number[];
      return { uidValidity: box.uid_validity, uids, sizes };
    })();
  }

  async read(accountId: number, uid: number): Promise<Readable> {
    const row = sql(
      this.db,
      `SELECT m.header, m.blob_id, b.data, b.file FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id LEFT JOIN blobs b ON b.id = m.blob_id
       WHERE mb.account_id = ? AND mb.name = ? AND m.uid = ?`,
    ).get(accountId, INBOX, uid) as { header: Buffer; blob_id: string; data: Buffer | null; file: string | null } | undefined;
    if (!row) throw new Error(`no message with UID ${uid}`);
    if (row.data) return Readable.from([row.header, row.data], { objectMode: false });
    const out = new PassThrough();
    out.write(row.header);
    createReadStream(this.blobPath(row.blob_id, row.file).path).on('error', (e) => out.destroy(e)).pipe(out);
    return out;
  }

  async expunge(accountId: number, uids: readonly number[]): Promise<number> {
    return (await this.f.expungeIn(accountId, INBOX, uids, false)).length;
  }

  async ping(): Promise<void> {
    sql(this.db, 'SELECT 1 FROM mailboxes LIMIT 1').get();
  }

  async close(): Promise<void> {
    await this.dirs.close();
    this.db.close();
  }
}
