/**
 * backends/sqlite: the embedded backend — SQLite (better-sqlite3, WAL, synchronous=FULL)
 * for directory, spool and mailbox index, one database file each so that one being
 * slow or locked does not stall the others; message bodies as files written once.
 * Imported only by the wiring and by tests.
 */
export * from './directory.js';
export * from './spool.js';
export * from './mailstore.js';
export * from './portal-state.js';
export * from './notices.js';
