/**
 * processes: the session worker processes of one node. The main process forks them, hands
 * them new connections in turn, keeps what their sessions share (failed-login counts, POP3
 * maildrop locks, writes to the embedded mailbox store) and asks them for their metrics;
 * calls between them have deadlines.
 */
export * from './rpc.js';
export * from './shared-state.js';
export * from './session-workers.js';
export * from './main-writes.js';
