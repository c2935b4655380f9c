import type { MailStore } from './types.js';
import { WrappedMailStore } from './wrapped.js';

/**
 * A mailbox store opened on first use, and opened again after a failed open: a store
 * whose files are missing or broken at start fails its calls (each a temporary error the
 * caller retries) instead of stopping the service, and works as soon as it can be opened.
 */
export class LazyMailStore extends WrappedMailStore {
  private store: MailStore | undefined;

  constructor(private readonly open: () => MailStore) {
    super();
  }

  /** Runs `call` on the store, opening it first if needed; a failed open is a rejected promise, never a throw. */
  protected through<T>(_target: unknown, call: (store: MailStore) => Promise<T>): Promise<T> {
    if (this.store) return call(this.store);
    try {
      this.store = this.open();
    } catch (err) {
      return Promise.reject(err);
    }
    return call(this.store);
  }

  async close() {
    await this.store?.close();
    this.store = undefined;
  }
}
