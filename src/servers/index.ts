/**
 * servers: protocol listeners and their sessions. They use core interfaces only
 * (directory, queue, mailstore, inbound) — never a backend or a database driver.
 */
export * from './smtp/index.js';
export * from './pop3/index.js';
export * from './tls.js';
export type { HandOff } from './tls-listeners.js';
export * from './plaintext.js';
export * from './http/index.js';
export * from './portal/index.js';
export * from './fault-proxy/index.js';
export * from './imap/index.js';
export * from './dns/index.js';
export * from './web/index.js';
export * from './sftp/index.js';
