/**
 * A main process's side of the node state, alone in a child process (forked by
 * test/processes.test.ts): it keeps failed-login counts and maildrop locks for its parent,
 * which plays the session worker, over the real IPC channel.
 */
import { MemoryCounters } from '../../src/auth/index.js';
import { MaildropLockTable } from '../../src/mailstore/index.js';
import { RpcChannel, type Endpoint } from '../../src/processes/index.js';

// `node --test dist/` runs every file under test/, this one too: without a parent to serve it has nothing to do.
if (!process.send) process.exit(0);

const counters = new MemoryCounters();
const locks = new MaildropLockTable();
const parent = new RpcChannel(process as unknown as Endpoint);
parent.serve({
  'counters.add': (keys: string[], n: number, at: number, bucketMs: number) => counters.add(keys, n, at, bucketMs),
  'counters.buckets': (keys: string[], since: number) => counters.buckets(keys, since),
  'counters.forget': (key: string) => counters.forget(key),
  'locks.acquire': (accountId: number) => locks.acquire(accountId, 'worker'),
  'locks.release': (accountId: number) => locks.release(accountId, 'worker'),
  // For the test: another process of the node takes a lock, and what the table holds.
  'other.acquire': (accountId: number) => locks.acquire(accountId, 'other'),
  'other.release': (accountId: number) => locks.release(accountId, 'other'),
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
