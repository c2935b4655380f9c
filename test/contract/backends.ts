import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { removeDir, tempDir } from '../helpers/service.js';
import { dropSchemas, pgStoreUrl } from '../helpers/postgres.js';
import type { AuditLog, DirectoryStore } from '../../src/directory/index.js';
import type { ApiTokenStore, SessionStore, SharedCounters, TotpStore } from '../../src/auth/index.js';
import type { MailStore, MaildropLocks } from '../../src/mailstore/index.js';
import type { Spool } from '../../src/queue/index.js';
import type { BacklogHistory, NoticeStore } from '../../src/notices/index.js';
import { SqliteDirectoryStore, SqliteMailStore, SqliteNoticeStore, SqlitePortalState, SqliteSpool } from '../../src/backends/sqlite/index.js';
import { PgDirectoryStore, PgMailStore, PgMaildropLocks, PgNoticeStore, PgPortalState, PgSpool } from '../../src/backends/postgres/index.js';
import { FileBlobStore } from '../../src/backends/files/index.js';

/** A backend under contract test: factories for each store interface on a fresh directory; a store it lacks yet is absent. */
export interface BackendUnderTest {
  readonly name: string;
  spool?(dir: string): Spool;
  directory?(dir: string): DirectoryStore;
  mailStore?(dir: string): MailStore;
  /** Portal sessions, last logins and the audit log, beside the directory of the same `dir`. */
  portalState?(dir: string): SessionStore & AuditLog & ApiTokenStore & TotpStore & { close(): Promise<void> };
  /** Notices and the backlog's history, beside the directory of the same `dir`. */
  notices?(dir: string): NoticeStore & BacklogHistory & { close(): Promise<void> };
  /** What nodes share (each call on the same `dir` is another node): failed-login and sending counts, maildrop locks. */
  cluster?(dir: string): { counters: SharedCounters; locks: MaildropLocks; close(): Promise<void> };
}

// Each test directory gets its own schema, so a store reopened on the same directory finds its data; all are dropped at the end.
const schemas = new Set<string>();
const pgUrl = (dir: string) => {
  const { url, schema } = pgStoreUrl(basename(dir));
  schemas.add(schema);
  return url;
};
after(() => (schemas.size ? dropSchemas(schemas) : undefined));

const ALL: BackendUnderTest[] = [
  {
    name: 'sqlite',
    directory: (dir) => new SqliteDirectoryStore(join(dir, 'directory.db')),
    spool: (dir) => new SqliteSpool(join(dir, 'spool'), true),
    mailStore: (dir) => new SqliteMailStore(join(dir, 'mail'), true),
    portalState: (dir) => new SqlitePortalState(join(dir, 'directory.db')),
    notices: (dir) => new SqliteNoticeStore(join(dir, 'directory.db')),
  },
  {
    name: 'postgres',
    directory: (dir) => new PgDirectoryStore(pgUrl(dir)),
    spool: (dir) => new PgSpool(pgUrl(dir)),
    mailStore: (dir) => new PgMailStore(pgUrl(dir)),
    portalState: (dir) => new PgPortalState(pgUrl(dir)),
    notices: (dir) => new PgNoticeStore(pgUrl(dir)),
    cluster: (dir) => {
      const counters = new PgPortalState(pgUrl(dir));
      const locks = new PgMaildropLocks(pgUrl(dir));
      return { counters, locks, close: async () => void (await Promise.all([counters.close(), locks.close()])) };
    },
  },
];

/** Every backend, or the one named by HIKYAKU_TEST_BACKEND. */
export const BACKENDS = ALL.filter((b) => !process.env.HIKYAKU_TEST_BACKEND || b.name === process.env.HIKYAKU_TEST_BACKEND);

/** The PostgreSQL mailbox store with its bodies in files (storage.bodies = file:///…): under the MailStore contract too. */
export const MAILSTORE_VARIANTS: (BackendUnderTest & Required<Pick<BackendUnderTest, 'mailStore'>>)[] = BACKENDS.some((b) => b.name === 'postgres')
  ? [{ name: 'postgres, bodies in files', mailStore: (dir) => new PgMailStore(pgUrl(dir), {}, undefined, new FileBlobStore(join(dir, 'bodies'))) }]
  : [];

type Store = 'spool' | 'directory' | 'mailStore' | 'portalState' | 'notices' | 'cluster';

const SKIPS: Partial<Record<Store, string>> = {
  cluster: 'the embedded backend serves one node, which counts failed logins and sent mail and locks maildrops in its own memory',
};

/** The backends that have `store`; for each that has not, a skipped test that says so. */
export function backendsWith<K extends Store>(store: K, suite: string): (BackendUnderTest & Required<Pick<BackendUnderTest, K>>)[] {
  for (const b of BACKENDS.filter((x) => !x[store])) test(`${suite}: ${b.name}`, { skip: SKIPS[store] ?? `the ${b.name} backend has no ${store} store yet` }, () => undefined);
  return BACKENDS.filter((b) => b[store]) as (BackendUnderTest & Required<Pick<BackendUnderTest, K>>)[];
}

/** Opens a store on a fresh directory, runs `body`, then closes the store and removes the directory. */
export async function withStore<S extends { close(): Promise<void> }>(open: (dir: string) => S, body: (store: S) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const store = open(dir);
  try {
    await body(store);
  } finally {
    await store.close();
    removeDir(dir);
  }
}
