import type { SharedCounters } from '../auth/index.js';
import type { MaildropLocks } from '../mailstore/index.js';
import type { RpcChannel } from './rpc.js';

// A worker's calls to the main process wait this long at most.
const CALL_MS = 1000;
const RETRY_MS = 5000;

/** Failed-login counts kept by the main process, as a session worker adds and reads them. */
export class ProcessCounters implements SharedCounters {
  constructor(private readonly main: RpcChannel) {}

  add(keys: readonly string[], n: number, at: number, bucketMs: number): Promise<void> {
    return this.main.call('counters.add', [keys, n, at, bucketMs], CALL_MS);
  }

  buckets(keys: readonly string[], since: number, bucketMs: number): Promise<Map<string, [number, number][]>> {
    return this.main.call('counters.buckets', [keys, since, bucketMs], CALL_MS);
  }

  forget(key: string): Promise<void> {
    return this.main.call('counters.forget', [key], CALL_MS);
  }
}

/**
 * POP3 maildrop locks held for a session worker by the main process, so that a second
 * session on any process of the node is told [IN-USE]. When the main process does not
 * answer within the deadline, the worker locks by itself meanwhile (logins keep working,
 * principle 4), as PgMaildropLocks does when PostgreSQL does not answer.
 */
export class ProcessMaildropLocks implements MaildropLocks {
  private readonly held = new Set<number>();
  /** Those the main process holds for this worker. */
  private readonly remote = new Set<number>();
  private tryAgainAt = 0;

  constructor(
    private readonly main: RpcChannel,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async acquire(accountId: number): Promise<boolean> {
    if (this.held.has(accountId)) return false;
    this.held.add(accountId);
    if (Date.now() < this.tryAgainAt) return true;
    try {
      const ok = await this.main.call<boolean>('locks.acquire', [accountId], CALL_MS);
      this.tryAgainAt = 0;
      if (ok) this.remote.add(accountId);
      else this.held.delete(accountId);
      return ok;
    } catch (err) {
      if (this.tryAgainAt === 0) this.onError(err);
      this.tryAgainAt = Date.now() + RETRY_MS;
      // Granted after the deadline? Given back: messages arrive in order, so this comes after.
      this.main.call('locks.release', [accountId], CALL_MS).catch(() => undefined);
      return true;
    }
  }

  async release(accountId: number): Promise<void> {
    this.held.delete(accountId);
    if (!this.remote.delete(accountId)) return;
    await this.main.call('locks.release', [accountId], CALL_MS).catch((err: unknown) => this.onError(err));
  }
}
