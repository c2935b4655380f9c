/**
 * mailstore: the mailbox store interface — mailboxes with UIDs and UIDVALIDITY, sizes,
 * flags, internal dates, and immutable message bodies — and its fault-injecting wrapper.
 * Invariants: append is idempotent per (mailbox, message key); UIDs only grow.
 */
export * from './types.js';
export * from './folders.js';
export * from './fault-injection.js';
export * from './deadline.js';
export * from './lazy.js';
export * from './wrapped.js';
export * from './maildrop-locks.js';
export * from './blobs.js';
