import { join } from 'node:path';
import { removeDir, tempDir } from '../helpers/service.js';
import type { AuditLog, DirectoryStore } from '../../src/directory/index.js';
import type { ApiTokenStore, SessionStore, TotpStore } from '../../src/auth/index.js';
import type { MailStore } from '../../src/mailstore/index.js';
import type { Spool } from '../../src/queue/index.js';
import type { BacklogHistory, NoticeStore } from '../../src/notices/index.js';
import { SqliteDirectoryStore, SqliteMailStore, SqliteNoticeStore, SqlitePortalState, SqliteSpool } from '../../src/backends/sqlite/index.js';

/** A backend under contract test: factories for each store interface on a fresh directory. */
export interface BackendUnderTest {
  readonly name: string;
  directory(dir: string): DirectoryStore;
  spool(dir: string): Spool;
  mailStore(dir: string): MailStore;
  /** Portal sessions, last logins and the audit log, beside the directory of the same `dir`. */
  portalState(dir: string): SessionStore & AuditLog & ApiTokenStore & TotpStore & { close(): Promise<void> };
  /** Notices and the backlog's history, beside the directory of the same `dir`. */
  notices(dir: string): NoticeStore & BacklogHistory & { close(): Promise<void> };
}

const ALL: BackendUnderTest[] = [
  {
    name: 'sqlite',
    directory: (dir) => new SqliteDirectoryStore(join(dir, 'directory.db')),
    spool: (dir) => new SqliteSpool(join(dir, 'spool'), true),
    mailStore: (dir) => new SqliteMailStore(join(dir, 'mail'), true),
    portalState: (dir) => new SqlitePortalState(join(dir, 'directory.db')),
    notices: (dir) => new SqliteNoticeStore(join(dir, 'directory.db')),
  },
];

/** Every backend, or the one named by HIKYAKU_TEST_BACKEND. */
export const BACKENDS = ALL.filter((b) => !process.env.HIKYAKU_TEST_BACKEND || b.name === process.env.HIKYAKU_TEST_BACKEND);

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
