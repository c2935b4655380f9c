/**
 * The embedded mailbox store's folders (FolderStore): IMAP's mailboxes, flags, modification
 * sequences, COPY/MOVE and APPEND, over the same tables as delivery and POP3 use, so that one
 * UID means one message for both protocols. Every change runs in the store's group commit.
 */
import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { HikyakuError } from '../../mail/index.js';
import {
  DEFAULT_FOLDERS,
  FOLDER_DELIMITER,
  isSameOrBelow,
  normalizeFolderName,
  type FlagChange,
  type FlagUpdate,
  type Folder,
  type FolderMessage,
  type PreparingFolderStore,
  type NewMessage,
  type SpecialUse,
  type StoredMessage,
} from '../../mailstore/index.js';
import { crashPoint } from '../../observability/index.js';
import { sql, type Db, type GroupCommitter } from './db.js';
import { INLINE_BODY_MAX, sendableColumn } from './files.js';
import { readMessages } from './mail-bodies.js';

export const INBOX = 'INBOX';

/** What the folder operations need of the store that owns the database and the body files. */
export interface FolderContext {
  readonly db: Db;
  readonly committer: GroupCommitter;
  readonly keyRetentionMs: number;
  /** The path of a body file. */
  blobPath(id: string, file: string | null): { dir: string; path: string };
  /** Writes a large body to a file of its own (durable); returns the file's name. */
  writeBody(blobId: string, data: Buffer): Promise<string>;
}

type MailboxRow = { id: number; name: string; special_use: string | null; subscribed: number; uid_validity: number; uid_next: number; messages: number; bytes: number; highest_modseq: number };
type MessageRow = { uid: number; size: number; internal_date: number; flags: string; modseq: number };
const NO_FLAGS: readonly string[] = Object.freeze([]);

const SELECT_BOX = 'SELECT id, name, special_use, subscribed, uid_validity, uid_next, messages, bytes, highest_modseq FROM mailboxes';
// "\Seen" among the space-separated flags.
const UNSEEN = "(' ' || flags || ' ') NOT LIKE '% \\Seen %'";

export const toMessage = (r: MessageRow): FolderMessage => ({ uid: r.uid, size: r.size, internalDate: r.internal_date, flags: r.flags ? r.flags.split(' ') : [], modseq: r.modseq });

/** Flags as stored: distinct, in a stable order, joined by spaces. */
export const joinFlags = (flags: Iterable<string>): string => [...new Set(flags)].sort().join(' ');

export class SqliteFolders implements PreparingFolderStore {
  constructor(private readonly ctx: FolderContext) {}

  private get db(): Db {
    return this.ctx.db;
  }

  /** A fresh UIDVALIDITY: the time in seconds, but always above the last one given, so a folder made again never repeats one. */
  private nextUidValidity(): number {
    const row = sql(this.db, `INSERT INTO mail_meta (k, v) VALUES ('uid_validity', ?) ON CONFLICT (k) DO UPDATE SET v = max(v + 1, excluded.v) RETURNING v`).get(Math.floor(Date.now() / 1000)) as { v: number };
    return row.v;
  }

  private box(accountId: number, name: string): MailboxRow | undefined {
    return sql(this.db, `${SELECT_BOX} WHERE account_id = ? AND name = ?`).get(accountId, name) as MailboxRow | undefined;
  }

  private mustBox(accountId: number, name: string): MailboxRow {
    const row = this.box(accountId, normalizeFolderName(name));
    if (!row) throw new HikyakuError('ERR_FOLDER_UNKNOWN', name);
    return row;
  }

  private toFolder(r: MailboxRow): Folder {
    const { n } = sql(this.db, `SELECT count(*) AS n FROM messages WHERE mailbox_id = ? AND ${UNSEEN}`).get(r.id) as { n: number };
    return {
      id: r.id,
      name: r.name,
      specialUse: r.special_use as SpecialUse | null,
      subscribed: r.subscribed === 1,
      uidValidity: r.uid_validity,
      uidNext: r.uid_next,
      messages: r.messages,
      unseen: n,
      bytes: r.bytes,
      highestModseq: r.highest_modseq,
    };
  }

  /** Makes a folder row (no checks); returns its id. */
  private insertBox(accountId: number, name: string, specialUse: SpecialUse | null): number {
    const row = sql(this.db, 'INSERT INTO mailboxes (account_id, name, uid_validity, special_use, prepared) VALUES (?, ?, ?, ?, 1) RETURNING id').get(accountId, name, this.nextUidValidity(), specialUse) as { id: number };
    return row.id;
  }

  /** INBOX and the special-use folders, once per account (a folder the user deleted later is not made again); true if it made them. */
  private prepare(accountId: number): boolean {
    const inbox = sql(this.db, 'SELECT id, prepared FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, INBOX) as { id: number; prepared: number } | undefined;
    if (inbox?.prepared) return false;
    if (!inbox) this.insertBox(accountId, INBOX, null);
    else sql(this.db, 'UPDATE mailboxes SET prepared = 1 WHERE id = ?').run(inbox.id);
    for (const f of DEFAULT_FOLDERS) if (!this.box(accountId, f.name)) this.insertBox(accountId, f.name, f.specialUse);
    return true;
  }

  async prepareFolders(accountId: number): Promise<boolean> {
    const row = sql(this.db, 'SELECT prepared FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, INBOX) as { prepared: number } | undefined;
    return row?.prepared ? false : this.write(() => this.prepare(accountId));
  }

  /** Runs `work` in the group commit and returns its result. */
  private async write<T>(work: () => T, dirToSync?: string): Promise<T> {
    let result: T | undefined;
    await this.ctx.committer.run(() => void (result = work()), dirToSync);
    return result as T;
  }

  async folders(accountId: number): Promise<Folder[]> {
    await this.prepareFolders(accountId);
    const rows = sql(this.db, `${SELECT_BOX} WHERE account_id = ? ORDER BY name`).all(accountId) as MailboxRow[];
    return rows.map((r) => this.toFolder(r));
  }

  async folder(accountId: number, name: string): Promise<Folder | undefined> {
    const row = this.box(accountId, normalizeFolderName(name));
    return row && this.toFolder(row);
  }

  async createFolder(accountId: number, name: string, specialUse?: SpecialUse): Promise<void> {
    const full = normalizeFolderName(name);
    await this.write(() => {
      this.prepare(accountId);
      if (this.box(accountId, full)) throw new HikyakuError('ERR_FOLDER_EXISTS', full);
      this.makeParents(accountId, full);
      this.insertBox(accountId, full, specialUse ?? null);
    });
  }

  /** RFC 9051 §6.3.4: the superior names a new name needs are made too. */
  private makeParents(accountId: number, name: string): void {
    const levels = name.split(FOLDER_DELIMITER);
    for (let i = 1; i < levels.length; i++) {
      const parent = levels.slice(0, i).join(FOLDER_DELIMITER);
      if (!this.box(accountId, parent)) this.insertBox(accountId, parent, null);
    }
  }

  async deleteFolder(accountId: number, name: string): Promise<void> {
    const unlinkAfter: string[] = [];
    await this.write(() => {
      const box = this.mustBox(accountId, name);
      if (box.name === INBOX) throw new HikyakuError('ERR_FOLDER_INBOX', 'INBOX cannot be deleted');
      const child = sql(this.db, 'SELECT 1 FROM mailboxes WHERE account_id = ? AND substr(name, 1, ?) = ?').get(accountId, box.name.length + 1, box.name + FOLDER_DELIMITER);
      if (child) throw new HikyakuError('ERR_FOLDER_HAS_CHILDREN', box.name);
      const uids = (sql(this.db, 'SELECT uid FROM messages WHERE mailbox_id = ?').all(box.id) as { uid: number }[]).map((r) => r.uid);
      this.removeRows(box.id, uids, 0, unlinkAfter);
      sql(this.db, 'DELETE FROM expunged WHERE mailbox_id = ?').run(box.id);
      sql(this.db, 'DELETE FROM mailboxes WHERE id = ?').run(box.id);
    });
    await this.unlinkAll(unlinkAfter);
  }

  async renameFolder(accountId: number, from: string, to: string): Promise<void> {
    const target = normalizeFolderName(to);
    await this.write(() => {
      const box = this.mustBox(accountId, from);
      if (target === INBOX) throw new HikyakuError('ERR_FOLDER_INBOX', 'nothing can be renamed to INBOX');
      if (this.box(accountId, target)) throw new HikyakuError('ERR_FOLDER_EXISTS', target);
      if (isSameOrBelow(target, box.name)) throw new HikyakuError('ERR_FOLDER_NAME', 'a folder cannot move below itself');
      this.makeParents(accountId, target);
      if (box.name === INBOX) {
        // RFC 9051 §6.3.6: INBOX's messages move to the new folder; INBOX stays, empty; its subfolders stay.
        const id = this.insertBox(accountId, target, null);
        const uids = (sql(this.db, 'SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid').all(box.id) as { uid: number }[]).map((r) => r.uid);
        this.copyRows(box, uids, this.mustBoxById(id), true, 0);
        return;
      }
      const rows = sql(this.db, 'SELECT id, name FROM mailboxes WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)').all(accountId, box.name, box.name.length + 1, box.name + FOLDER_DELIMITER) as { id: number; name: string }[];
      for (const r of rows) {
        const renamed = target + r.name.slice(box.name.length);
        if (r.id !== box.id && this.box(accountId, renamed)) throw new HikyakuError('ERR_FOLDER_EXISTS', renamed);
        sql(this.db, 'UPDATE mailboxes SET name = ? WHERE id = ?').run(renamed, r.id);
      }
    });
  }

  private mustBoxById(id: number): MailboxRow {
    return sql(this.db, `${SELECT_BOX} WHERE id = ?`).get(id) as MailboxRow;
  }

  async setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    await this.write(() => {
      const box = this.mustBox(accountId, name);
      sql(this.db, 'UPDATE mailboxes SET subscribed = ? WHERE id = ?').run(subscribed ? 1 : 0, box.id);
    });
  }

  async messages(accountId: number, folder: string): Promise<{ folder: Folder; messages: FolderMessage[] }> {
    // One read transaction: the folder's figures and its messages agree.
    return this.db.transaction(() => {
      const box = this.mustBox(accountId, folder);
      // Rows as arrays, and one shared empty flag list: SELECT of a large folder makes an object per message only.
      const rows = sql(this.db, 'SELECT uid, size, internal_date, flags, modseq FROM messages WHERE mailbox_id = ? ORDER BY uid').raw(true).all(box.id) as [number, number, number, string, number][];
      return { folder: this.toFolder(box), messages: rows.map(([uid, size, internalDate, flags, modseq]) => ({ uid, size, internalDate, flags: flags ? flags.split(' ') : NO_FLAGS, modseq })) };
    })();
  }

  readMessages(accountId: number, folder: string, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
    return readMessages(this.db, (id, file) => this.ctx.blobPath(id, file).path, accountId, normalizeFolderName(folder), uids);
  }

  /** Raises the folder's modseq; returns the new one, for the rows this change touches. */
  private bump(boxId: number): number {
    return (sql(this.db, 'UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq AS m').get(boxId) as { m: number }).m;
  }

  async storeFlags(accountId: number, folder: string, uids: readonly number[], change: FlagChange, flags: readonly string[], unchangedSince?: number): Promise<FlagUpdate> {
    return this.write(() => {
      const box = this.mustBox(accountId, folder);
      const get = sql(this.db, 'SELECT uid, size, internal_date, flags, modseq FROM messages WHERE mailbox_id = ? AND uid = ?');
      const set = sql(this.db, 'UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?');
      const updated: FolderMessage[] = [];
      const modified: number[] = [];
      let modseq = 0;
      for (const uid of uids) {
        const row = get.get(box.id, uid) as MessageRow | undefined;
        if (!row) continue;
        if (unchangedSince !== undefined && row.modseq > unchangedSince) {
          modified.push(uid);
          continue;
        }
        const now = new Set(row.flags ? row.flags.split(' ') : []);
        const next = change === 'replace' ? new Set(flags) : new Set(now);
        if (change === 'add') flags.forEach((f) => next.add(f));
        if (change === 'remove') flags.forEach((f) => next.delete(f));
        const text = joinFlags(next);
        if (text === joinFlags(now)) continue;
        modseq ||= this.bump(box.id);
        set.run(text, modseq, box.id, uid);
        updated.push(toMessage({ ...row, flags: text, modseq }));
      }
      return { updated, modified };
    });
  }

  async appendMessage(accountId: number, folder: string, message: NewMessage): Promise<{ uidValidity: number; uid: number }> {
    const name = normalizeFolderName(folder);
    const key = `imap-${randomBytes(12).toString('hex')}`;
    const inline = message.data.length <= INLINE_BODY_MAX;
    const file = inline ? undefined : await this.ctx.writeBody(key, message.data);
    const sendable = sendableColumn(message.data);
    try {
      return await this.write(
        () => {
          const box = this.mustBox(accountId, name);
          this.checkQuota(accountId, message.data.length, message.quotaBytes);
          sql(this.db, 'INSERT INTO blobs (id, size, refs, data, file, sendable) VALUES (?, ?, 1, ?, ?, ?)').run(key, message.data.length, inline ? message.data : null, file ?? null, sendable);
          const uid = this.takeUid(box.id);
          const modseq = this.bump(box.id);
          sql(this.db, 'INSERT INTO messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, flags, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
            box.id, uid, key, key, Buffer.alloc(0), message.data.length, message.internalDate, joinFlags(message.flags), modseq,
          );
          sql(this.db, 'UPDATE mailboxes SET messages = messages + 1, bytes = bytes + ? WHERE id = ?').run(message.data.length, box.id);
          return { uidValidity: box.uid_validity, uid };
        },
        file ? this.ctx.blobPath(key, file).dir : undefined,
      );
    } catch (err) {
      if (file) await unlink(this.ctx.blobPath(key, file).path).catch(() => undefined);
      throw err;
    }
  }

  private takeUid(boxId: number): number {
    return (sql(this.db, 'UPDATE mailboxes SET uid_next = uid_next + 1 WHERE id = ? RETURNING uid_next - 1 AS uid').get(boxId) as { uid: number }).uid;
  }

  /** Throws ERR_QUOTA_EXCEEDED if `adding` bytes would take the account's folders past `quota` (0: none). */
  checkQuota(accountId: number, adding: number, quota: number): void {
    if (quota <= 0 || adding <= 0) return;
    const { bytes } = sql(this.db, 'SELECT coalesce(sum(bytes), 0) AS bytes FROM mailboxes WHERE account_id = ?').get(accountId) as { bytes: number };
    if (bytes + adding > quota) throw new HikyakuError('ERR_QUOTA_EXCEEDED', `${bytes + adding} bytes would exceed the quota of ${quota}`);
  }

  async copyMessages(accountId: number, from: string, uids: readonly number[], to: string, move: boolean, quotaBytes: number): Promise<{ uidValidity: number; pairs: [number, number][] }> {
    return this.write(() => {
      const source = this.mustBox(accountId, from);
      const target = this.mustBox(accountId, to);
      const pairs = this.copyRows(source, [...uids].sort((a, b) => a - b), target, move, move ? 0 : quotaBytes, accountId);
      return { uidValidity: target.uid_validity, pairs };
    });
  }

  /** Copies message rows (the body is shared, counted once more); with `move`, the sources go as an expunge would remove them. */
  private copyRows(source: MailboxRow, uids: readonly number[], target: MailboxRow, move: boolean, quotaBytes: number, accountId?: number): [number, number][] {
    const get = sql(this.db, 'SELECT uid, blob_id, header, size, internal_date, flags FROM messages WHERE mailbox_id = ? AND uid = ?');
    const rows = uids.map((u) => get.get(source.id, u) as { uid: number; blob_id: string; header: Buffer; size: number; internal_date: number; flags: string } | undefined).filter((r) => r !== undefined);
    if (rows.length === 0) return [];
    if (accountId !== undefined) this.checkQuota(accountId, rows.reduce((n, r) => n + r.size, 0), quotaBytes);
    const modseq = this.bump(target.id);
    const pairs: [number, number][] = [];
    const insert = sql(this.db, 'INSERT INTO messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, flags, modseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of rows) {
      const uid = this.takeUid(target.id);
      insert.run(target.id, uid, `copy-${randomBytes(12).toString('hex')}`, r.blob_id, r.header, r.size, r.internal_date, r.flags, modseq);
      sql(this.db, 'UPDATE blobs SET refs = refs + 1 WHERE id = ?').run(r.blob_id);
      pairs.push([r.uid, uid]);
    }
    sql(this.db, 'UPDATE mailboxes SET messages = messages + ?, bytes = bytes + ? WHERE id = ?').run(rows.length, rows.reduce((n, r) => n + r.size, 0), target.id);
    // The body's references went up first, so a move never frees a body it still needs.
    if (move) this.removeRows(source.id, rows.map((r) => r.uid), this.bump(source.id), []);
    return pairs;
  }

  /**
   * Removes message rows in a write transaction: counts, the expunged keys (with `modseq`;
   * 0: the folder goes too), the bodies' references; body files no row needs any more are
   * added to `unlinkAfter`, to be removed once the transaction committed.
   */
  removeRows(boxId: number, uids: readonly number[], modseq: number, unlinkAfter: string[]): number[] {
    const removed: number[] = [];
    const now = Date.now();
    for (const uid of uids) {
      const row = sql(this.db, 'DELETE FROM messages WHERE mailbox_id = ? AND uid = ? RETURNING blob_id, size, message_key').get(boxId, uid) as { blob_id: string; size: number; message_key: string } | undefined;
      if (!row) continue;
      removed.push(uid);
      if (modseq > 0) sql(this.db, 'INSERT OR REPLACE INTO expunged (mailbox_id, message_key, uid, expunged_at, modseq) VALUES (?, ?, ?, ?, ?)').run(boxId, row.message_key, uid, now, modseq);
      sql(this.db, 'UPDATE mailboxes SET messages = messages - 1, bytes = bytes - ? WHERE id = ?').run(row.size, boxId);
      const blob = sql(this.db, 'UPDATE blobs SET refs = refs - 1 WHERE id = ? RETURNING refs, data IS NULL AS isFile, file').get(row.blob_id) as { refs: number; isFile: number; file: string | null };
      if (blob.refs <= 0) {
        sql(this.db, 'DELETE FROM blobs WHERE id = ?').run(row.blob_id);
        if (blob.isFile) unlinkAfter.push(this.ctx.blobPath(row.blob_id, blob.file).path);
      }
    }
    return removed;
  }

  /** Body files go after the commit: a crash in between leaves an unreferenced file (swept at start), never a reference to a missing one. */
  async unlinkAll(paths: readonly string[]): Promise<void> {
    for (const path of paths) await unlink(path).catch(() => undefined);
  }

  /** Expunges in the folder `boxName` (INBOX for POP3), bumping its modseq once. */
  async expungeIn(accountId: number, boxName: string, uids: readonly number[], mustExist: boolean): Promise<number[]> {
    const unlinkAfter: string[] = [];
    const removed = await this.write(() => {
      const box = mustExist ? this.mustBox(accountId, boxName) : this.box(accountId, boxName);
      if (!box || uids.length === 0) return [];
      const present = uids.filter((u) => sql(this.db, 'SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?').get(box.id, u));
      if (present.length === 0) return [];
      const gone = this.removeRows(box.id, present, this.bump(box.id), unlinkAfter);
      sql(this.db, 'DELETE FROM expunged WHERE expunged_at < ?').run(Date.now() - this.ctx.keyRetentionMs);
      return gone;
    });
    if (removed.length > 0) crashPoint('expunge');
    await this.unlinkAll(unlinkAfter);
    return removed;
  }

  expungeMessages(accountId: number, folder: string, uids: readonly number[]): Promise<number[]> {
    return this.expungeIn(accountId, normalizeFolderName(folder), uids, true);
  }

  async vanishedSince(accountId: number, folder: string, modseq: number): Promise<number[]> {
    const box = this.mustBox(accountId, folder);
    const rows = sql(this.db, 'SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid').all(box.id, modseq) as { uid: number }[];
    return rows.map((r) => r.uid);
  }

  async highestModseqs(folderIds: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (folderIds.length === 0) return out;
    const rows = sql(this.db, 'SELECT id, highest_modseq FROM mailboxes WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(folderIds)) as { id: number; highest_modseq: number }[];
    for (const r of rows) out.set(r.id, r.highest_modseq);
    return out;
  }
}
