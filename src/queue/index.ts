/**
 * queue: the spool of accepted messages and their per-recipient queue entries —
 * durable accept, leases, retry timing. It does not deliver (see delivery/) and never
 * touches the mailbox store: accepting mail must not wait on it (DESIGN.md principle 1).
 */
export * from './types.js';
export * from './backoff.js';
export * from './manage.js';
