import type { AppendInput, MailStore } from './types.js';

/**
 * A mailbox store opened on first use, and opened again after a failed open: a store
 * whose files are missing or broken at start fails its calls (each a temporary error the
 * caller retries) instead of stopping the service, and works as soon as it can be opened.
 */
export class LazyMailStore implements MailStore {
  private store: MailStore | undefined;

  constructor(private readonly open: () => MailStore) {}

  /** Runs `call` on the store, opening it first if needed; a failed open is a rejected promise, never a throw. */
  private with<T>(call: (store: MailStore) => Promise<T>): Promise<T> {
    if (this.store) return call(this.store);
    try {
      this.store = this.open();
    } catch (err) {
      return Promise.reject(err);
    }
    return call(this.store);
  }

  append(input: AppendInput) {
    return this.with((s) => s.append(input));
  }

  status(accountId: number) {
    return this.with((s) => s.status(accountId));
  }

  list(accountId: number) {
    return this.with((s) => s.list(accountId));
  }

  read(accountId: number, uid: number) {
    return this.with((s) => s.read(accountId, uid));
  }

  expunge(accountId: number, uids: readonly number[]) {
    return this.with((s) => s.expunge(accountId, uids));
  }

  ping() {
    return this.with((s) => s.ping());
  }

  async close() {
    await this.store?.close();
    this.store = undefined;
  }
}
