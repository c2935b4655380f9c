/**
 * backends/postgres: the stores on PostgreSQL (pg, with Kysely as the query layer), for
 * many stateless nodes sharing them. Only the wiring imports this.
 */
export * from './pool.js';
export * from './spool.js';
export * from './mailstore.js';
export * from './directory.js';
export * from './portal-state.js';
export * from './notices.js';
export * from './maildrop-locks.js';
export * from './copy.js';
