/**
 * backends/files: stores made of plain files in a directory that may be shared by nodes
 * (message bodies beside a PostgreSQL mailbox store). Only the wiring imports this.
 */
export * from './blob-store.js';
