/**
 * `hikyaku db copy`: an embedded installation (DATA_DIR's SQLite files and body files) into
 * PostgreSQL, table by table in key order, in batches that are each one transaction. A row
 * already there is written again (upsert), so a copy that stopped half-way is run again and
 * goes on; at the end every table is compared, by count and by a checksum of its rows.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { openPool, parseStoreUrl } from './pool.js';
import { PgDirectoryStore } from './directory.js';
import { PgMailStore } from './mailstore.js';
import { PgNoticeStore } from './notices.js';
import { PgPortalState } from './portal-state.js';
import { PgSpool } from './spool.js';
import { readLoggedBody } from '../sqlite/body-log.js';

type Row = Record<string, unknown>;

interface TablePlan {
  /** The SQLite file under DATA_DIR. */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** Its primary key, in order: the copy walks it and the checksum sorts by it. */
  readonly key: readonly string[];
  /** Columns PostgreSQL keeps as booleans (SQLite: 0/1). */
  readonly booleans?: readonly string[];
  /** A body kept outside the row (a file, the spool's body log) when the row has none inline. */
  readonly body?: { readonly column: string; readonly read: (row: Row, dataDir: string) => Buffer };
  /** Its id sequence, brought past the copied ids. */
  readonly serial?: string;
}

const DIRECTORY = 'directory.db';
const SPOOL = 'spool/spool.db';
const MAIL = 'mail/mailstore.db';

/** Every table, parents before children (foreign keys). */
export const COPY_PLAN: readonly TablePlan[] = [
  { file: DIRECTORY, from: 'tenants', to: 'tenants', key: ['id'], serial: 'id' },
  { file: DIRECTORY, from: 'domains', to: 'domains', key: ['name'] },
  { file: DIRECTORY, from: 'accounts', to: 'accounts', key: ['id'], serial: 'id' },
  { file: DIRECTORY, from: 'aliases', to: 'aliases', key: ['address'] },
  { file: DIRECTORY, from: 'forwards', to: 'forwards', key: ['account_id'] },
  { file: DIRECTORY, from: 'autoreplies', to: 'autoreplies', key: ['account_id'] },
  { file: DIRECTORY, from: 'dkim_keys', to: 'dkim_keys', key: ['domain', 'selector'] },
  { file: DIRECTORY, from: 'dns_records', to: 'dns_records', key: ['id'], serial: 'id' },
  { file: DIRECTORY, from: 'policies', to: 'policies', key: ['scope'] },
  { file: DIRECTORY, from: 'operators', to: 'operators', key: ['login'] },
  { file: DIRECTORY, from: 'portal_sessions', to: 'portal_sessions', key: ['id'] },
  { file: DIRECTORY, from: 'last_logins', to: 'last_logins', key: ['subject'] },
  { file: DIRECTORY, from: 'audit_log', to: 'audit_log', key: ['id'], serial: 'id' },
  { file: DIRECTORY, from: 'api_tokens', to: 'api_tokens', key: ['id'] },
  { file: DIRECTORY, from: 'totp', to: 'totp', key: ['subject'] },
  { file: DIRECTORY, from: 'notices', to: 'notices', key: ['id'], serial: 'id' },
  { file: DIRECTORY, from: 'backlog_samples', to: 'backlog_samples', key: ['at'] },
  {
    file: SPOOL, from: 'messages', to: 'spool_messages', key: ['id'], booleans: ['smtputf8'],
    body: { column: 'body', read: (r, d) => (r.body_seg == null ? readFileSync(join(d, 'spool', 'messages', String(r.id))) : readLoggedBody(join(d, 'spool', 'log'), String(r.id), Number(r.body_seg), Number(r.body_off), Number(r.size))) },
  },
  { file: SPOOL, from: 'entries', to: 'spool_entries', key: ['id'], booleans: ['warned'], serial: 'id' },
  { file: SPOOL, from: 'attempt_log', to: 'spool_attempt_log', key: ['entry_id', 'at'] },
  { file: SPOOL, from: 'notice_keys', to: 'spool_notice_keys', key: ['key'] },
  { file: MAIL, from: 'mail_meta', to: 'mail_meta', key: ['k'] },
  { file: MAIL, from: 'mailboxes', to: 'mail_mailboxes', key: ['id'], serial: 'id', booleans: ['subscribed', 'prepared'] },
  {
    file: MAIL, from: 'blobs', to: 'mail_blobs', key: ['id'], booleans: ['sendable'],
    body: { column: 'data', read: (r, d) => readFileSync(join(d, 'mail', 'blobs', String(r.id).slice(-2), String(r.file ?? r.id))) },
  },
  { file: MAIL, from: 'messages', to: 'mail_messages', key: ['mailbox_id', 'uid'] },
  { file: MAIL, from: 'expunged', to: 'mail_expunged', key: ['mailbox_id', 'message_key'] },
];

// Source columns the target does not have (where the body was kept: it goes inline).
const DROPPED: Record<string, readonly string[]> = { mail_blobs: ['file'], spool_messages: ['body_seg', 'body_off'] };

const BATCH = 500;

export interface CopyProgress {
  /** Called as rows are copied: the table, rows done and rows in it. */
  (table: string, done: number, total: number): void;
}

export interface TableCheck {
  readonly table: string;
  readonly rows: number;
  readonly copied: number;
  readonly same: boolean;
}

/** Copies DATA_DIR's stores into the database at `url` (schemas made as `hikyaku db migrate` does), then compares every table. */
export async function copyInstallation(dataDir: string, url: string, progress: CopyProgress): Promise<TableCheck[]> {
  parseStoreUrl(url);
  // The target's schema first, by the stores themselves.
  for (const Store of [PgDirectoryStore, PgPortalState, PgNoticeStore, PgSpool, PgMailStore]) {
    const s = new Store(url);
    try {
      await s.migrated();
    } finally {
      await s.close();
    }
  }
  const { db } = openPool(url, { max: 2, statementTimeoutMs: 600_000 });
  const sources = new Map<string, Database.Database>();
  try {
    const plans = COPY_PLAN.filter((p) => existsSync(join(dataDir, p.file)));
    for (const plan of plans) {
      let src = sources.get(plan.file);
      if (!src) sources.set(plan.file, (src = new Database(join(dataDir, plan.file), { readonly: true, fileMustExist: true })));
      await copyTable(src, db, dataDir, plan, progress);
    }
    // Every node's cache reloads what was copied.
    if (plans.some((p) => p.file === DIRECTORY)) await sql`UPDATE dir_meta SET v = v + 1 WHERE k = 'version'`.execute(db);
    const checks: TableCheck[] = [];
    for (const plan of plans) checks.push(await compare(sources.get(plan.file)!, db, dataDir, plan));
    return checks;
  } finally {
    for (const s of sources.values()) s.close();
    await db.destroy();
  }
}

/** One source row as the target keeps it: booleans as booleans, the body inline. */
function targetRow(row: Row, dataDir: string, plan: TablePlan): Row {
  const out: Row = { ...row };
  for (const c of DROPPED[plan.to] ?? []) delete out[c];
  for (const c of plan.booleans ?? []) out[c] = out[c] === 1 || out[c] === true;
  if (plan.body && (out[plan.body.column] === null || out[plan.body.column] === undefined)) out[plan.body.column] = plan.body.read(row, dataDir);
  return out;
}

async function copyTable(src: Database.Database, db: Kysely<any>, dataDir: string, plan: TablePlan, progress: CopyProgress): Promise<void> {
  const total = (src.prepare(`SELECT count(*) AS n FROM ${plan.from}`).get() as { n: number }).n;
  const page = src.prepare(`SELECT rowid AS _rowid, * FROM ${plan.from} WHERE rowid > ? ORDER BY rowid LIMIT ${BATCH}`);
  let after = 0;
  let done = 0;
  progress(plan.to, 0, total);
  for (;;) {
    const rows = page.all(after) as Row[];
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!._rowid as number;
    const batch = rows.map((r) => {
      const { _rowid, ...rest } = r;
      return targetRow(rest, dataDir, plan);
    });
    const columns = Object.keys(batch[0]!);
    const updates = columns.filter((c) => !plan.key.includes(c));
    await db.transaction().execute(async (tx) => {
      await sql`INSERT INTO ${sql.table(plan.to)} (${sql.join(columns.map((c) => sql.ref(c)))})
        VALUES ${sql.join(batch.map((r) => sql`(${sql.join(columns.map((c) => r[c]))})`))}
        ON CONFLICT (${sql.join(plan.key.map((c) => sql.ref(c)))}) ${updates.length ? sql`DO UPDATE SET ${sql.join(updates.map((c) => sql`${sql.ref(c)} = excluded.${sql.ref(c)}`))}` : sql`DO NOTHING`}`.execute(tx);
    });
    done += rows.length;
    progress(plan.to, done, total);
  }
  if (plan.serial) {
    await sql`SELECT setval(pg_get_serial_sequence(${plan.to}, ${plan.serial}), greatest((SELECT max(${sql.ref(plan.serial)}) FROM ${sql.table(plan.to)}), 1))`.execute(db);
  }
}

/** A value as both sides hash it. */
function canonical(v: unknown): string {
  if (v === null || v === undefined) return '\u0000null';
  if (Buffer.isBuffer(v)) return `b:${v.toString('hex')}`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/** Count and checksum of the table on both sides (rows in key order, the columns the target keeps). */
async function compare(src: Database.Database, db: Kysely<any>, dataDir: string, plan: TablePlan): Promise<TableCheck> {
  const order = plan.key.join(', ');
  const mine = createHash('sha256');
  let rows = 0;
  let columns: string[] | undefined;
  // Text sorts byte-wise in SQLite; "C" does the same in PostgreSQL (numbers need no collation).
  let sortBy: RawBuilder<unknown>[] = [];
  for (const r of src.prepare(`SELECT * FROM ${plan.from} ORDER BY ${order}`).iterate() as Iterable<Row>) {
    const row = targetRow(r, dataDir, plan);
    if (!columns) {
      columns = Object.keys(row).sort();
      sortBy = plan.key.map((c) => (typeof r[c] === 'string' ? sql`${sql.ref(c)} COLLATE "C"` : sql`${sql.ref(c)}`));
    }
    mine.update(columns.map((c) => canonical(row[c])).join('\u0001') + '\u0002');
    rows++;
  }
  const theirs = createHash('sha256');
  let copied = 0;
  if (columns) {
    // Read in pages, each after the last key of the one before (a mailbox store does not fit in memory at once, and an offset would read it again and again).
    let after: unknown[] | undefined;
    for (;;) {
      const from = after ? sql`WHERE (${sql.join(sortBy)}) > (${sql.join(after.map((v) => sql`${v}`))})` : sql``;
      const r = await sql<Row>`SELECT ${sql.join(columns.map((c) => sql.ref(c)))} FROM ${sql.table(plan.to)} ${from} ORDER BY ${sql.join(sortBy)} LIMIT ${BATCH}`.execute(db);
      for (const row of r.rows) theirs.update(columns.map((c) => canonical(row[c])).join('\u0001') + '\u0002');
      copied += r.rows.length;
      if (r.rows.length < BATCH) break;
      after = plan.key.map((k) => r.rows.at(-1)![k]);
    }
  } else {
    copied = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(plan.to)}`.execute(db)).rows[0]!.n);
  }
  return { table: plan.to, rows, copied, same: rows === copied && mine.digest('hex') === theirs.digest('hex') };
}
