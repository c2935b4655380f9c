/**
 * processes: the session worker processes of one node. The main process forks them with
 * its listening sockets, keeps what their sessions share (failed-login counts, POP3 maildrop
 * locks) and asks them for their metrics; calls between them have deadlines.
 */
export * from './rpc.js';
export * from './shared-state.js';
export * from './session-workers.js';
export * from './main-writes.js';
