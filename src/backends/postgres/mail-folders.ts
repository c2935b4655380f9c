/**
 * The PostgreSQL mailbox store's folders (FolderStore), shared by every node. A change locks
 * its folder rows (in id order when there are two) for its transaction, so UIDs and modseqs
 * increase strictly whichever node writes; delivery's batched appends take the same locks.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { HikyakuError } from '../../mail/index.js';
import {
  DEFAULT_FOLDERS,
  FOLDER_DELIMITER,
  isSameOrBelow,
  normalizeFolderName,
  type BlobStore,
  type FlagChange,
  type FlagUpdate,
  type Folder,
  type FolderMessage,
  type PreparingFolderStore,
  type NewMessage,
  type SpecialUse,
  type StoredMessage,
} from '../../mailstore/index.js';
import { sendsAsStored } from '../../pop3/index.js';
import { withHeader } from '../common.js';
import { crashPoint } from '../../observability/index.js';

export const INBOX = 'INBOX';

type Db = Kysely<any> | Transaction<any>;
type BoxRow = { id: number; name: string; special_use: string | null; subscribed: boolean; uid_validity: number; uid_next: number; messages: number; bytes: number; highest_modseq: number; unseen: number };
type MessageRow = { uid: number; size: number; internal_date: number; flags: string; modseq: number };

const BOX_COLUMNS = sql`id, name, special_use, subscribed, uid_validity, uid_next, messages, bytes, highest_modseq,
  (SELECT count(*)::int FROM mail_messages m WHERE m.mailbox_id = mail_mailboxes.id AND strpos(' ' || m.flags || ' ', ' \\Seen ') = 0) AS unseen`;

const toFolder = (r: BoxRow): Folder => ({
  id: r.id,
  name: r.name,
  specialUse: r.special_use as SpecialUse | null,
  subscribed: r.subscribed,
  uidValidity: r.uid_validity,
  uidNext: r.uid_next,
  messages: r.messages,
  unseen: r.unseen,
  bytes: r.bytes,
  highestModseq: r.highest_modseq,
});
const toMessage = (r: MessageRow): FolderMessage => ({ uid: r.uid, size: r.size, internalDate: r.internal_date, flags: r.flags ? r.flags.split(' ') : [], modseq: r.modseq });
const joinFlags = (flags: Iterable<string>): string => [...new Set(flags)].sort().join(' ');

export class PgFolders implements PreparingFolderStore {
  constructor(
    private readonly conn: () => Promise<Kysely<any>>,
    private readonly keyRetentionMs: number,
    private readonly bodies: () => BlobStore,
    private readonly hasBodies: boolean,
  ) {}

  private async box(db: Db, accountId: number, name: string, lock = false): Promise<BoxRow | undefined> {
    const r = await sql<BoxRow>`SELECT ${BOX_COLUMNS} FROM mail_mailboxes WHERE account_id = ${accountId} AND name = ${name} ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
    return r.rows[0];
  }

  private async mustBox(db: Db, accountId: number, name: string, lock = false): Promise<BoxRow> {
    const row = await this.box(db, accountId, normalizeFolderName(name), lock);
    if (!row) throw new HikyakuError('ERR_FOLDER_UNKNOWN', name);
    return row;
  }

  /** A fresh UIDVALIDITY: the time in seconds, but above the last one given, so a folder made again never repeats one. */
  private async nextUidValidity(db: Db): Promise<number> {
    const r = await sql<{ v: number }>`INSERT INTO mail_meta (k, v) VALUES ('uid_validity', ${Math.floor(Date.now() / 1000)}::bigint)
      ON CONFLICT (k) DO UPDATE SET v = greatest(mail_meta.v + 1, excluded.v) RETURNING v`.execute(db);
    return r.rows[0]!.v;
  }

  private async insertBox(db: Db, accountId: number, name: string, specialUse: SpecialUse | null, prepared = true): Promise<void> {
    const v = await this.nextUidValidity(db);
    await sql`INSERT INTO mail_mailboxes (account_id, name, uid_validity, special_use, prepared) VALUES (${accountId}, ${name}, ${v}, ${specialUse}, ${prepared})
      ON CONFLICT (account_id, name) DO NOTHING`.execute(db);
  }

  /** INBOX and the special-use folders, once per account; true if they were not there before (made now, here or by another node). */
  private async prepare(db: Db, accountId: number): Promise<boolean> {
    const r = await sql<{ prepared: boolean }>`SELECT prepared FROM mail_mailboxes WHERE account_id = ${accountId} AND name = ${INBOX}`.execute(db);
    if (r.rows[0]?.prepared) return false;
    await (await this.conn()).transaction().execute(async (tx) => {
      if (!r.rows[0]) await this.insertBox(tx, accountId, INBOX, null, false);
      const inbox = await sql<{ prepared: boolean }>`UPDATE mail_mailboxes SET prepared = true WHERE account_id = ${accountId} AND name = ${INBOX} AND NOT prepared RETURNING prepared`.execute(tx);
      if (inbox.rows.length === 0) return;
      for (const f of DEFAULT_FOLDERS) await this.insertBox(tx, accountId, f.name, f.specialUse);
    });
    return true;
  }

  async prepareFolders(accountId: number): Promise<boolean> {
    return this.prepare(await this.conn(), accountId);
  }

  async folders(accountId: number): Promise<Folder[]> {
    const db = await this.conn();
    await this.prepare(db, accountId);
    const r = await sql<BoxRow>`SELECT ${BOX_COLUMNS} FROM mail_mailboxes WHERE account_id = ${accountId} ORDER BY name`.execute(db);
    return r.rows.map(toFolder);
  }

  async folder(accountId: number, name: string): Promise<Folder | undefined> {
    const row = await this.box(await this.conn(), accountId, normalizeFolderName(name));
    return row && toFolder(row);
  }

  private async tx<T>(work: (tx: Transaction<any>) => Promise<T>): Promise<T> {
    return (await this.conn()).transaction().execute(work);
  }

  async createFolder(accountId: number, name: string, specialUse?: SpecialUse): Promise<void> {
    const full = normalizeFolderName(name);
    await this.prepare(await this.conn(), accountId);
    await this.tx(async (tx) => {
      if (await this.box(tx, accountId, full)) throw new HikyakuError('ERR_FOLDER_EXISTS', full);
      await this.makeParents(tx, accountId, full);
      const v = await this.nextUidValidity(tx);
      const r = await sql`INSERT INTO mail_mailboxes (account_id, name, uid_validity, special_use, prepared) VALUES (${accountId}, ${full}, ${v}, ${specialUse ?? null}, true)
        ON CONFLICT (account_id, name) DO NOTHING RETURNING id`.execute(tx);
      if (r.rows.length === 0) throw new HikyakuError('ERR_FOLDER_EXISTS', full);
    });
  }

  private async makeParents(tx: Db, accountId: number, name: string): Promise<void> {
    const levels = name.split(FOLDER_DELIMITER);
    for (let i = 1; i < levels.length; i++) await this.insertBox(tx, accountId, levels.slice(0, i).join(FOLDER_DELIMITER), null);
  }

  async deleteFolder(accountId: number, name: string): Promise<void> {
    const freed = await this.tx(async (tx) => {
      const box = await this.mustBox(tx, accountId, name, true);
      if (box.name === INBOX) throw new HikyakuError('ERR_FOLDER_INBOX', 'INBOX cannot be deleted');
      const child = await sql`SELECT 1 FROM mail_mailboxes WHERE account_id = ${accountId} AND starts_with(name, ${box.name + FOLDER_DELIMITER})`.execute(tx);
      if (child.rows.length) throw new HikyakuError('ERR_FOLDER_HAS_CHILDREN', box.name);
      const uids = await sql<{ uid: number }>`SELECT uid FROM mail_messages WHERE mailbox_id = ${box.id}`.execute(tx);
      const locations = await this.removeRows(tx, box.id, uids.rows.map((r) => r.uid), 0);
      await sql`DELETE FROM mail_expunged WHERE mailbox_id = ${box.id}`.execute(tx);
      await sql`DELETE FROM mail_mailboxes WHERE id = ${box.id}`.execute(tx);
      return locations;
    });
    await this.deleteBodies(freed);
  }

  async renameFolder(accountId: number, from: string, to: string): Promise<void> {
    const target = normalizeFolderName(to);
    await this.tx(async (tx) => {
      const box = await this.mustBox(tx, accountId, from, true);
      if (target === INBOX) throw new HikyakuError('ERR_FOLDER_INBOX', 'nothing can be renamed to INBOX');
      if (await this.box(tx, accountId, target)) throw new HikyakuError('ERR_FOLDER_EXISTS', target);
      if (isSameOrBelow(target, box.name)) throw new HikyakuError('ERR_FOLDER_NAME', 'a folder cannot move below itself');
      await this.makeParents(tx, accountId, target);
      if (box.name === INBOX) {
        await this.insertBox(tx, accountId, target, null);
        const made = (await this.box(tx, accountId, target, true))!;
        const uids = await sql<{ uid: number }>`SELECT uid FROM mail_messages WHERE mailbox_id = ${box.id} ORDER BY uid`.execute(tx);
        await this.copyRows(tx, box, uids.rows.map((r) => r.uid), made, true);
        return;
      }
      const clash = await sql<{ name: string }>`SELECT o.name FROM mail_mailboxes o WHERE o.account_id = ${accountId} AND o.name IN (
          SELECT ${target}::text || substr(c.name, ${box.name.length + 1}) FROM mail_mailboxes c WHERE c.account_id = ${accountId} AND starts_with(c.name, ${box.name + FOLDER_DELIMITER}))`.execute(tx);
      if (clash.rows[0]) throw new HikyakuError('ERR_FOLDER_EXISTS', clash.rows[0].name);
      await sql`UPDATE mail_mailboxes SET name = ${target}::text || substr(name, ${box.name.length + 1})
        WHERE account_id = ${accountId} AND (name = ${box.name} OR starts_with(name, ${box.name + FOLDER_DELIMITER}))`.execute(tx);
    });
  }

  async setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    const db = await this.conn();
    const box = await this.mustBox(db, accountId, name);
    await sql`UPDATE mail_mailboxes SET subscribed = ${subscribed} WHERE id = ${box.id}`.execute(db);
  }

  async messages(accountId: number, folder: string): Promise<{ folder: Folder; messages: FolderMessage[] }> {
    // REPEATABLE READ: the folder's figures and its messages are one snapshot.
    return (await this.conn()).transaction().setIsolationLevel('repeatable read').execute(async (tx) => {
      const box = await this.mustBox(tx, accountId, folder);
      const r = await sql<MessageRow>`SELECT uid, size, internal_date, flags, modseq FROM mail_messages WHERE mailbox_id = ${box.id} ORDER BY uid`.execute(tx);
      return { folder: toFolder(box), messages: r.rows.map(toMessage) };
    });
  }

  async readMessages(accountId: number, folder: string, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
    const out = new Map<number, StoredMessage>();
    if (uids.length === 0) return out;
    const r = await sql<{ uid: number; header: Buffer; data: Buffer | null; location: string | null; sendable: boolean | null }>`
      SELECT m.uid, m.header, b.data, b.location, b.sendable FROM mail_messages m JOIN mail_mailboxes mb ON mb.id = m.mailbox_id JOIN mail_blobs b ON b.id = m.blob_id
      WHERE mb.account_id = ${accountId} AND mb.name = ${normalizeFolderName(folder)} AND m.uid = ANY(${[...uids]}::bigint[])`.execute(await this.conn());
    const bodies = await Promise.all(r.rows.map((row) => row.data ?? this.bodies().get(row.location!)));
    r.rows.forEach((row, i) => out.set(row.uid, withHeader(row.header, bodies[i]!, row.sendable === true)));
    return out;
  }

  private async bump(tx: Db, boxId: number): Promise<number> {
    const r = await sql<{ m: number }>`UPDATE mail_mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ${boxId} RETURNING highest_modseq AS m`.execute(tx);
    return r.rows[0]!.m;
  }

  async storeFlags(accountId: number, folder: string, uids: readonly number[], change: FlagChange, flags: readonly string[], unchangedSince?: number): Promise<FlagUpdate> {
    return this.tx(async (tx) => {
      const box = await this.mustBox(tx, accountId, folder, true);
      const r = await sql<MessageRow>`SELECT uid, size, internal_date, flags, modseq FROM mail_messages WHERE mailbox_id = ${box.id} AND uid = ANY(${[...uids]}::bigint[]) ORDER BY uid`.execute(tx);
      const updated: MessageRow[] = [];
      const modified: number[] = [];
      for (const row of r.rows) {
        if (unchangedSince !== undefined && row.modseq > unchangedSince) {
          modified.push(row.uid);
          continue;
        }
        const now = new Set(row.flags ? row.flags.split(' ') : []);
        const next = change === 'replace' ? new Set(flags) : new Set(now);
        if (change === 'add') flags.forEach((f) => next.add(f));
        if (change === 'remove') flags.forEach((f) => next.delete(f));
        const text = joinFlags(next);
        if (text !== joinFlags(now)) updated.push({ ...row, flags: text });
      }
      if (updated.length === 0) return { updated: [], modified };
      const modseq = await this.bump(tx, box.id);
      await sql`UPDATE mail_messages m SET flags = u.flags, modseq = ${modseq} FROM unnest(${updated.map((u) => u.uid)}::bigint[], ${updated.map((u) => u.flags)}::text[]) AS u(uid, flags)
        WHERE m.mailbox_id = ${box.id} AND m.uid = u.uid`.execute(tx);
      return { updated: updated.map((u) => toMessage({ ...u, modseq })), modified };
    });
  }

  /** Throws ERR_QUOTA_EXCEEDED if `adding` bytes would take the account's folders past `quota` (0: none). */
  private async checkQuota(tx: Db, accountId: number, adding: number, quota: number): Promise<void> {
    if (quota <= 0 || adding <= 0) return;
    const r = await sql<{ bytes: number }>`SELECT coalesce(sum(bytes), 0)::bigint AS bytes FROM mail_mailboxes WHERE account_id = ${accountId}`.execute(tx);
    const bytes = r.rows[0]!.bytes;
    if (bytes + adding > quota) throw new HikyakuError('ERR_QUOTA_EXCEEDED', `${bytes + adding} bytes would exceed the quota of ${quota}`);
  }

  async appendMessage(accountId: number, folder: string, message: NewMessage): Promise<{ uidValidity: number; uid: number }> {
    const key = `imap-${randomBytes(12).toString('hex')}`;
    const location = this.hasBodies ? `${key}.${randomBytes(6).toString('hex')}` : null;
    if (location) await this.bodies().put(location, message.data);
    try {
      return await this.tx(async (tx) => {
        const box = await this.mustBox(tx, accountId, folder, true);
        await this.checkQuota(tx, accountId, message.data.length, message.quotaBytes);
        await sql`INSERT INTO mail_blobs (id, size, refs, data, location, sendable) VALUES (${key}, ${message.data.length}, 1, ${location ? null : message.data}, ${location}, ${sendsAsStored(message.data)})`.execute(tx);
        const t = await sql<{ uid: number; modseq: number }>`UPDATE mail_mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1, messages = messages + 1, bytes = bytes + ${message.data.length}
          WHERE id = ${box.id} RETURNING uid_next - 1 AS uid, highest_modseq AS modseq`.execute(tx);
        const { uid, modseq } = t.rows[0]!;
        await sql`INSERT INTO mail_messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, flags, modseq)
          VALUES (${box.id}, ${uid}, ${key}, ${key}, ${Buffer.alloc(0)}, ${message.data.length}, ${message.internalDate}, ${joinFlags(message.flags)}, ${modseq})`.execute(tx);
        return { uidValidity: box.uid_validity, uid };
      });
    } catch (err) {
      // Known not to be referred to only when the database said no; a broken connection leaves it to the start-up sweep.
      if (location && err instanceof HikyakuError) await this.bodies().delete([location]).catch(() => undefined);
      throw err;
    }
  }

  async copyMessages(accountId: number, from: string, uids: readonly number[], to: string, move: boolean, quotaBytes: number): Promise<{ uidValidity: number; pairs: [number, number][] }> {
    return this.tx(async (tx) => {
      const names = [normalizeFolderName(from), normalizeFolderName(to)];
      // Both folders locked in id order: two sessions copying opposite ways never deadlock.
      await sql`SELECT id FROM mail_mailboxes WHERE account_id = ${accountId} AND name = ANY(${names}::text[]) ORDER BY id FOR UPDATE`.execute(tx);
      const source = await this.mustBox(tx, accountId, from);
      const target = await this.mustBox(tx, accountId, to);
      const sorted = [...uids].sort((a, b) => a - b);
      if (!move) {
        const r = await sql<{ bytes: number }>`SELECT coalesce(sum(size), 0)::bigint AS bytes FROM mail_messages WHERE mailbox_id = ${source.id} AND uid = ANY(${sorted}::bigint[])`.execute(tx);
        await this.checkQuota(tx, accountId, r.rows[0]!.bytes, quotaBytes);
      }
      const pairs = await this.copyRows(tx, source, sorted, target, move);
      return { uidValidity: target.uid_validity, pairs };
    });
  }

  /** Copies message rows (bodies shared and counted once more); with `move`, the sources go as an expunge removes them. Both folders are locked. */
  private async copyRows(tx: Db, source: BoxRow, uids: readonly number[], target: BoxRow, move: boolean): Promise<[number, number][]> {
    const rows = await sql<{ uid: number; size: number }>`SELECT uid, size FROM mail_messages WHERE mailbox_id = ${source.id} AND uid = ANY(${[...uids]}::bigint[]) ORDER BY uid`.execute(tx);
    if (rows.rows.length === 0) return [];
    const n = rows.rows.length;
    const bytes = rows.rows.reduce((s, r) => s + r.size, 0);
    const t = await sql<{ first: number; modseq: number }>`UPDATE mail_mailboxes SET uid_next = uid_next + ${n}, highest_modseq = highest_modseq + 1, messages = messages + ${n}, bytes = bytes + ${bytes}
      WHERE id = ${target.id} RETURNING uid_next - ${n} AS first, highest_modseq AS modseq`.execute(tx);
    const { first, modseq } = t.rows[0]!;
    const src = rows.rows.map((r) => r.uid);
    const dst = src.map((_, i) => first + i);
    const keys = src.map(() => `copy-${randomBytes(12).toString('hex')}`);
    await sql`INSERT INTO mail_messages (mailbox_id, uid, message_key, blob_id, header, size, internal_date, flags, modseq)
      SELECT ${target.id}, c.dst, c.key, m.blob_id, m.header, m.size, m.internal_date, m.flags, ${modseq}
      FROM unnest(${src}::bigint[], ${dst}::bigint[], ${keys}::text[]) AS c(src, dst, key) JOIN mail_messages m ON m.mailbox_id = ${source.id} AND m.uid = c.src`.execute(tx);
    await sql`UPDATE mail_blobs b SET refs = b.refs + c.n FROM (SELECT blob_id, count(*)::int AS n FROM mail_messages WHERE mailbox_id = ${source.id} AND uid = ANY(${src}::bigint[]) GROUP BY blob_id) c
      WHERE b.id = c.blob_id`.execute(tx);
    // References went up first, so a move never frees a body it still needs.
    if (move) await this.removeRows(tx, source.id, src, await this.bump(tx, source.id));
    return src.map((u, i) => [u, dst[i]!]);
  }

  /**
   * Removes message rows of a locked folder: counts, the expunged keys (with `modseq`; 0: the
   * folder goes too), the bodies' references. Returns the objects no row names any more, to
   * be deleted once the transaction committed.
   */
  async removeRows(tx: Db, boxId: number, uids: readonly number[], modseq: number): Promise<string[]> {
    if (uids.length === 0) return [];
    const now = Date.now();
    const gone = await sql<{ blob_id: string; size: number; message_key: string; uid: number }>`
      DELETE FROM mail_messages WHERE mailbox_id = ${boxId} AND uid = ANY(${[...uids]}::bigint[]) RETURNING blob_id, size, message_key, uid`.execute(tx);
    if (gone.rows.length === 0) return [];
    if (modseq > 0) {
      const rows = gone.rows.map((g) => sql`(${boxId}, ${g.message_key}, ${g.uid}, ${now}, ${modseq})`);
      await sql`INSERT INTO mail_expunged (mailbox_id, message_key, uid, expunged_at, modseq) VALUES ${sql.join(rows)}
        ON CONFLICT (mailbox_id, message_key) DO UPDATE SET uid = excluded.uid, expunged_at = excluded.expunged_at, modseq = excluded.modseq`.execute(tx);
    }
    const bytes = gone.rows.reduce((n, g) => n + g.size, 0);
    await sql`UPDATE mail_mailboxes SET messages = messages - ${gone.rows.length}, bytes = bytes - ${bytes} WHERE id = ${boxId}`.execute(tx);
    const blobs = gone.rows.map((g) => g.blob_id);
    await sql`UPDATE mail_blobs b SET refs = b.refs - c.n FROM (SELECT id, count(*)::int AS n FROM unnest(${blobs}::text[]) AS id GROUP BY id) c WHERE b.id = c.id`.execute(tx);
    const freed = await sql<{ location: string | null }>`DELETE FROM mail_blobs WHERE id = ANY(${blobs}::text[]) AND refs <= 0 RETURNING location`.execute(tx);
    return freed.rows.flatMap((f) => (f.location ? [f.location] : []));
  }

  /** Objects go only once no committed row names them; one left by a failure here is swept at start. */
  private async deleteBodies(locations: string[]): Promise<void> {
    if (locations.length) await this.bodies().delete(locations).catch(() => undefined);
  }

  /** Expunges in the folder `name` (INBOX for POP3), raising its modseq once. */
  async expungeIn(accountId: number, name: string, uids: readonly number[], mustExist: boolean): Promise<number[]> {
    if (uids.length === 0) return [];
    let freed: string[] = [];
    const removed = await this.tx(async (tx) => {
      const box = mustExist ? await this.mustBox(tx, accountId, name, true) : await this.box(tx, accountId, name, true);
      if (!box) return [];
      const present = await sql<{ uid: number }>`SELECT uid FROM mail_messages WHERE mailbox_id = ${box.id} AND uid = ANY(${[...uids]}::bigint[]) ORDER BY uid`.execute(tx);
      if (present.rows.length === 0) return [];
      const list = present.rows.map((r) => r.uid);
      freed = await this.removeRows(tx, box.id, list, await this.bump(tx, box.id));
      await sql`DELETE FROM mail_expunged WHERE expunged_at < ${Date.now() - this.keyRetentionMs}`.execute(tx);
      return list;
    });
    if (removed.length > 0) crashPoint('expunge');
    await this.deleteBodies(freed);
    return removed;
  }

  expungeMessages(accountId: number, folder: string, uids: readonly number[]): Promise<number[]> {
    return this.expungeIn(accountId, normalizeFolderName(folder), uids, true);
  }

  async vanishedSince(accountId: number, folder: string, modseq: number): Promise<number[]> {
    const db = await this.conn();
    const box = await this.mustBox(db, accountId, folder);
    const r = await sql<{ uid: number }>`SELECT uid FROM mail_expunged WHERE mailbox_id = ${box.id} AND modseq > ${modseq} ORDER BY uid`.execute(db);
    return r.rows.map((x) => x.uid);
  }

  async highestModseqs(folderIds: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (folderIds.length === 0) return out;
    const r = await sql<{ id: number; highest_modseq: number }>`SELECT id, highest_modseq FROM mail_mailboxes WHERE id = ANY(${[...folderIds]}::bigint[])`.execute(await this.conn());
    for (const x of r.rows) out.set(x.id, x.highest_modseq);
    return out;
  }
}
