import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { HikyakuError } from '../../mail/index.js';
import { delegateFolderCalls, type AppendInput, type BlobStore, type FolderStore, type MailboxEntry, type MailboxStatus, type Maildrop, type MailStore } from '../../mailstore/index.js';
import { PgStore, type PgOptions } from './pool.js';
import { Batcher } from './batcher.js';
import { appendBatch } from './mail-append.js';
import { INBOX, PgFolders } from './mail-folders.js';

const MIGRATIONS = [
  `CREATE TABLE mail_mailboxes (
     id BIGSERIAL PRIMARY KEY,
     account_id BIGINT NOT NULL,
     name TEXT NOT NULL,
     uid_validity BIGINT NOT NULL,
     uid_next BIGINT NOT NULL DEFAULT 1,
     messages INTEGER NOT NULL DEFAULT 0,
     bytes BIGINT NOT NULL DEFAULT 0,
     UNIQUE (account_id, name));
   CREATE TABLE mail_blobs (id TEXT PRIMARY KEY, size BIGINT NOT NULL, refs INTEGER NOT NULL, data BYTEA NOT NULL);
   CREATE TABLE mail_messages (
     mailbox_id BIGINT NOT NULL REFERENCES mail_mailboxes(id),
     uid BIGINT NOT NULL,
     message_key TEXT NOT NULL,
     blob_id TEXT NOT NULL REFERENCES mail_blobs(id),
     header BYTEA NOT NULL,
     size BIGINT NOT NULL,
     internal_date BIGINT NOT NULL,
     flags TEXT NOT NULL DEFAULT '',
     PRIMARY KEY (mailbox_id, uid),
     UNIQUE (mailbox_id, message_key));
   CREATE TABLE mail_expunged (
     mailbox_id BIGINT NOT NULL,
     message_key TEXT NOT NULL,
     uid BIGINT NOT NULL,
     expunged_at BIGINT NOT NULL,
     PRIMARY KEY (mailbox_id, message_key));
   CREATE INDEX mail_expunged_at ON mail_expunged(expunged_at);`,
  // Bodies kept in a BlobStore (storage.bodies): the object's name, and no data here.
  `ALTER TABLE mail_blobs ALTER COLUMN data DROP NOT NULL;
   ALTER TABLE mail_blobs ADD COLUMN location TEXT;
   CREATE INDEX mail_blobs_location ON mail_blobs(location) WHERE location IS NOT NULL;`,
  // Folders for IMAP (mail-folders.ts): special use, subscriptions, modification sequences
  // (RFC 7162); `prepared`: the INBOX's account got its special-use folders; mail_meta holds
  // the last UIDVALIDITY given.
  `ALTER TABLE mail_mailboxes ADD COLUMN special_use TEXT, ADD COLUMN subscribed BOOLEAN NOT NULL DEFAULT true,
     ADD COLUMN highest_modseq BIGINT NOT NULL DEFAULT 1, ADD COLUMN prepared BOOLEAN NOT NULL DEFAULT false;
   ALTER TABLE mail_messages ADD COLUMN modseq BIGINT NOT NULL DEFAULT 1;
   ALTER TABLE mail_expunged ADD COLUMN modseq BIGINT NOT NULL DEFAULT 0;
   CREATE INDEX mail_expunged_modseq ON mail_expunged(mailbox_id, modseq);
   CREATE TABLE mail_meta (k TEXT PRIMARY KEY, v BIGINT NOT NULL);`,
  // true: the body was found, when stored, to need no dot-stuffing or line ending repair to
  // be sent by POP3 (StoredMessage.sendable); NULL: not known (a body stored before).
  `ALTER TABLE mail_blobs ADD COLUMN sendable BOOLEAN;`,
];
// An object older than this that no row names is left over from a crash (or a failed statement): the start-up sweep removes it.
const ORPHAN_AGE_MS = 3_600_000;

// Most appends in one statement (and at most the Batcher's bytes).
const APPEND_BATCH = 64;
const DEFAULT_KEY_RETENTION_MS = 7 * 86_400_000;

/** PostgreSQL's "disk full" is the mailbox store being full: temporary, the delivery retries. */
function storageError(err: unknown): unknown {
  return (err as { code?: string }).code === '53100' ? new HikyakuError('ERR_STORE_FAILED', 'the mailbox database has no room', { cause: err }) : err;
}

/**
 * The mailbox store on PostgreSQL, shared by every node: mailboxes, messages (each with its
 * own header lines) and bodies stored once per spool message however many mailboxes it went
 * to (`mail_blobs`, reference-counted; or in a BlobStore, `storage.bodies`). Appends lock
 * their mailbox rows for their one writing statement, so UIDs increase strictly per mailbox
 * whichever node delivers.
 */
// Its FolderStore calls are mail-folders.ts's (delegateFolderCalls).
export interface PgMailStore extends FolderStore {}

export class PgMailStore extends PgStore implements MailStore {
  private readonly appends: Batcher<AppendInput, { uid: number; duplicate: boolean }>;
  private readonly f: PgFolders;

  constructor(
    url: string,
    options: PgOptions = {},
    private readonly keyRetentionMs = DEFAULT_KEY_RETENTION_MS,
    /** Where bodies go; in the database when absent. */
    private readonly bodies?: BlobStore,
  ) {
    super(url, options, 'mailstore', MIGRATIONS);
    this.appends = new Batcher(async (inputs) => appendBatch(await this.conn(), inputs, bodies).catch((err: unknown) => Promise.reject(storageError(err))), APPEND_BATCH, Math.max(1, Math.floor((options.max ?? 10) / 3)), (i) => i.bodySize);
    // FolderStore (IMAP): see mail-folders.ts.
    this.f = new PgFolders(() => this.conn(), keyRetentionMs, () => this.bodyStore(), bodies !== undefined);
    delegateFolderCalls(this, this.f);
  }


  /** Appends go in batches (group commit, see Batcher and mail-append.ts): a database across a network is paid per batch. */
  append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    return this.appends.add(input);
  }

  /** Start-up housekeeping: keys of messages expunged long ago are forgotten; bodies in the BlobStore that no row names (a crash between put and commit) are removed. */
  async recover(): Promise<{ orphans: number }> {
    const db = await this.conn();
    await sql`DELETE FROM mail_expunged WHERE expunged_at < ${Date.now() - this.keyRetentionMs}`.execute(db);
    if (!this.bodies) return { orphans: 0 };
    let orphans = 0;
    const sweep = async (names: string[]) => {
      const r = await sql<{ location: string }>`SELECT location FROM mail_blobs WHERE location = ANY(${names}::text[])`.execute(db);
      const named = new Set(r.rows.map((x) => x.location));
      const gone = names.filter((n) => n.endsWith('.tmp') || !named.has(n));
      await this.bodies!.delete(gone);
      orphans += gone.length;
    };
    let page: string[] = [];
    for await (const name of this.bodies.list(Date.now() - ORPHAN_AGE_MS)) {
      page.push(name);
      if (page.length === 500) await sweep(page.splice(0));
    }
    if (page.length) await sweep(page);
    return { orphans };
  }

  async status(accountId: number): Promise<MailboxStatus> {
    const db = await this.conn();
    const r = await sql<{ uid_validity: number; uid_next: number; messages: number; bytes: number; used: number }>`
      SELECT uid_validity, uid_next, messages, bytes, (SELECT sum(bytes) FROM mail_mailboxes WHERE account_id = ${accountId})::bigint AS used
      FROM mail_mailboxes WHERE account_id = ${accountId} AND name = ${INBOX}`.execute(db);
    const row = r.rows[0];
    if (!row) return { uidValidity: 0, uidNext: 1, messages: 0, bytes: 0, usedBytes: 0 };
    return { uidValidity: row.uid_validity, uidNext: row.uid_next, messages: row.messages, bytes: row.bytes, usedBytes: row.used };
  }

  async list(accountId: number): Promise<MailboxEntry[]> {
    const db = await this.conn();
    const r = await sql<{ uid: number; size: number; internal_date: number; flags: string }>`
      SELECT m.uid, m.size, m.internal_date, m.flags FROM mail_messages m JOIN mail_mailboxes b ON b.id = m.mailbox_id
      WHERE b.account_id = ${accountId} AND b.name = ${INBOX} ORDER BY m.uid`.execute(db);
    return r.rows.map((x) => ({ uid: x.uid, size: x.size, internalDate: x.internal_date, flags: x.flags ? x.flags.split(' ') : [] }));
  }

  async maildrop(accountId: number): Promise<Maildrop> {
    const db = await this.conn();
    // One statement: the folder's UIDVALIDITY and its UIDs and sizes as two arrays (of int8, so text), not a row per message.
    const r = await sql<{ uid_validity: number; uids: string[]; sizes: string[] }>`
      SELECT b.uid_validity,
        coalesce(array_agg(m.uid ORDER BY m.uid) FILTER (WHERE m.uid IS NOT NULL), '{}') AS uids,
        coalesce(array_agg(m.size ORDER BY m.uid) FILTER (WHERE m.uid IS NOT NULL), '{}') AS sizes
      FROM mail_mailboxes b LEFT JOIN mail_messages m ON m.mailbox_id = b.id
      WHERE b.account_id = ${accountId} AND b.name = ${INBOX} GROUP BY b.uid_validity`.execute(db);
    const row = r.rows[0];
    if (!row) return { uidValidity: 0, uids: [], sizes: [] };
    return { uidValidity: row.uid_validity, uids: row.uids.map(Number), sizes: row.sizes.map(Number) };
  }

  async read(accountId: number, uid: number): Promise<Readable> {
    const db = await this.conn();
    const r = await sql<{ header: Buffer; data: Buffer | null; location: string | null }>`
      SELECT m.header, b.data, b.location FROM mail_messages m JOIN mail_mailboxes mb ON mb.id = m.mailbox_id JOIN mail_blobs b ON b.id = m.blob_id
      WHERE mb.account_id = ${accountId} AND mb.name = ${INBOX} AND m.uid = ${uid}`.execute(db);
    const row = r.rows[0];
    if (!row) throw new Error(`no message with UID ${uid}`);
    const data = row.data ?? (await this.bodyStore().get(row.location!));
    return Readable.from([row.header, data], { objectMode: false });
  }

  async expunge(accountId: number, uids: readonly number[]): Promise<number> {
    return (await this.f.expungeIn(accountId, INBOX, uids, false)).length;
  }

  /** The BlobStore a row's `location` refers to: configured whenever such rows exist. */
  private bodyStore(): BlobStore {
    if (!this.bodies) throw new HikyakuError('ERR_STORE_FAILED', 'this message body is kept outside the database, and storage.bodies does not say where');
    return this.bodies;
  }

  async ping(): Promise<void> {
    const db = await this.conn();
    await sql`SELECT 1 FROM mail_mailboxes LIMIT 1`.execute(db);
  }

}
