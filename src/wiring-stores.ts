import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config/index.js';
import type { DirectoryStore } from './directory/index.js';
import { LazyMailStore, describeFault, parseFault, type BlobStore, type MailStore } from './mailstore/index.js';
import { switchedMailStore } from './fault-switch.js';
import type { Logger } from './observability/index.js';
import { SqliteDirectoryStore, SqliteMailStore, SqliteNoticeStore, SqlitePortalState, SqliteSpool } from './backends/sqlite/index.js';
import { PgDirectoryStore, PgMailStore, PgMaildropLocks, PgNoticeStore, PgPortalState, PgSpool, copyInstallation, dropSchema } from './backends/postgres/index.js';
import { FileBlobStore } from './backends/files/index.js';
import type { SharedCounters } from './auth/index.js';
import type { Spool } from './queue/index.js';

// Wiring: how each store is opened from the configuration (the embedded backend, SQLite + files, or PostgreSQL).
/**
 * `forCache`: the service's own connection, read by the directory cache. It waits only
 * briefly for another process's lock, because SQLite calls block the thread that makes them
 * (the one answering SMTP); the cache keeps its last copy and tries again later.
 */
export function openDirectoryStore(config: Config, forCache = false, busyTimeoutMs = forCache ? CACHE_BUSY_TIMEOUT_MS : undefined): DirectoryStore {
  const where = config['storage.directory'];
  if (where !== 'sqlite') return new PgDirectoryStore(where, pgOptions(config));
  return new SqliteDirectoryStore(join(config.dataDir, 'directory.db'), busyTimeoutMs);
}

const CACHE_BUSY_TIMEOUT_MS = 100;

/** A spool and its start-up housekeeping (leases of this host's dead processes come back). */
export type ServiceSpool = Spool & { recover(): { released: number } | Promise<{ released: number }> };

/** The spool `storage.spool` names: the embedded one under DATA_DIR/spool, or PostgreSQL. */
export function openSpool(config: Config): ServiceSpool {
  const where = config['storage.spool'];
  if (where !== 'sqlite') return new PgSpool(where, pgOptions(config));
  return new SqliteSpool(join(config.dataDir, 'spool'), config['storage.fsync']);
}

/**
 * `onMainThread`: the connection POP3 uses, on the thread that also answers SMTP; it waits
 * only briefly for a delivery thread's write lock (SQLite blocks the thread meanwhile), so a
 * stuck writer costs a reader a temporary error, not every SMTP session a stall.
 */
export function openMailStore(config: Config, onMainThread = false): ServiceMailStore {
  // Keys of expunged messages outlive every queue entry that could deliver them again.
  const retentionMs = Math.max(config['delivery.maxQueueSeconds'], config['relay.maxQueueSeconds']) * 1000 + 86_400_000;
  const where = config['storage.mailstore'];
  if (where !== 'sqlite') return new PgMailStore(where, pgOptions(config), retentionMs, blobStore(config));
  return new SqliteMailStore(join(config.dataDir, 'mail'), config['storage.fsync'], retentionMs, onMainThread ? MAIN_THREAD_BUSY_TIMEOUT_MS : undefined);
}

/** A mailbox store and its start-up housekeeping (unreferenced bodies, old expunged keys). */
export type ServiceMailStore = MailStore & { recover(): { orphans: number } | Promise<{ orphans: number }> };

/** The BlobStore of `storage.bodies`, or undefined for bodies in the database. */
function blobStore(config: Config): BlobStore | undefined {
  const where = config['storage.bodies'];
  return where === 'database' ? undefined : new FileBlobStore(fileURLToPath(where), config['storage.fsync']);
}

const pgOptions = (config: Config) => ({ max: config['storage.pgPoolSize'], statementTimeoutMs: config['storage.pgStatementTimeoutMs'] });

const MAIN_THREAD_BUSY_TIMEOUT_MS = 250;

/** The fault rehearsals configured (`fault.mailstore`, `fault.crashAt`), or undefined when off. */
export function configuredFault(config: Config): string | undefined {
  const fault = parseFault(config['fault.mailstore']);
  const faults = [fault.kind === 'none' ? '' : `mailstore=${describeFault(fault)}`, config['fault.crashAt'] ? `crashAt=${config['fault.crashAt']}` : ''].filter(Boolean);
  return faults.length ? faults.join(' ') : undefined;
}

/**
 * The mailbox store as the service's roles use it: opened on first use (a broken mail/
 * fails deliveries, which retry, and never the start), under the fault rehearsal's switch.
 */
export function serviceMailStore(config: Config, onMainThread: boolean, log: Logger): MailStore {
  return switchedMailStore(new LazyMailStore(() => openMailStore(config, onMainThread)), config.dataDir, log);
}

/**
 * The SRS secret: configured, or generated once into DATA_DIR/srs.secret (created
 * exclusively and fsynced, so every thread and restart reads the same one).
 */
export function srsSecret(config: Config): string {
  if (config['srs.secret']) return config['srs.secret'];
  const path = join(config.dataDir, 'srs.secret');
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, randomBytes(24).toString('base64url'));
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

/** The portal's state beside the directory (sessions, tokens, second factors, audit log). */
export function openPortalState(config: Config, busyTimeoutMs?: number): PortalState {
  const where = config['storage.directory'];
  if (where !== 'sqlite') return new PgPortalState(where, pgOptions(config));
  return new SqlitePortalState(join(config.dataDir, 'directory.db'), busyTimeoutMs);
}

export type PortalState = SqlitePortalState | PgPortalState;

/** Notices and the backlog's history beside the directory. */
export function openNoticeStore(config: Config, busyTimeoutMs?: number): SqliteNoticeStore | PgNoticeStore {
  const where = config['storage.directory'];
  if (where !== 'sqlite') return new PgNoticeStore(where, pgOptions(config));
  return new SqliteNoticeStore(join(config.dataDir, 'directory.db'), busyTimeoutMs);
}

/**
 * What nodes share beyond the stores: failed-login and sending counts, POP3 maildrop locks.
 * On the embedded default a node counts and locks by itself (undefined).
 */
export function openClusterState(config: Config, state: PortalState, log: Logger): { counters: SharedCounters; locks: PgMaildropLocks; close(): Promise<void> } | undefined {
  if (!(state instanceof PgPortalState)) return undefined;
  const locks = new PgMaildropLocks(config['storage.directory'], 1000, (err) => log.warn({ err }, 'POP3 maildrop lock not taken in the database; this node locks by itself meanwhile'));
  return { counters: state, locks, close: () => locks.close() };
}

/** `hikyaku db migrate`: brings the schema of every store kept in PostgreSQL up to date (the embedded ones migrate when opened). */
export async function migrateStores(config: Config): Promise<{ store: string; from: number; to: number }[]> {
  const done: { store: string; from: number; to: number }[] = [];
  const opts = pgOptions(config);
  for (const [store, url, open] of [
    ['directory', config['storage.directory'], (u: string) => new PgDirectoryStore(u, opts)],
    ['portal', config['storage.directory'], (u: string) => new PgPortalState(u, opts)],
    ['notices', config['storage.directory'], (u: string) => new PgNoticeStore(u, opts)],
    ['spool', config['storage.spool'], (u: string) => new PgSpool(u, opts)],
    ['mailstore', config['storage.mailstore'], (u: string) => new PgMailStore(u, opts, undefined, blobStore(config))],
  ] as const) {
    if (url === 'sqlite') continue;
    const s = open(url);
    try {
      done.push({ store, ...(await s.migrated()) });
    } finally {
      await s.close();
    }
  }
  return done;
}

/** `hikyaku db copy`: the embedded stores under `dataDir` into PostgreSQL, compared table by table. */
export const copyStores = copyInstallation;

/** `hikyaku rehearse`: the schema of a rehearsal's installation, removed when it is over. */
export const dropRehearsalSchema = dropSchema;
