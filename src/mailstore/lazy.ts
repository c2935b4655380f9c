import type { AppendInput, MailStore } from './types.js';

/**
 * A mailbox store opened on first use, and opened again after a failed open: a store
 * whose files are missing or broken at start fails its calls (each a temporary error the
 * caller retries) instead of stopping the service, and works as soon as it can be opened.
 */
export class LazyMailStore implements MailStore {
  private store: MailStore | undefined;

  constructor(private readonly open: () => MailStore) {}

  private get(): MailStore {
    return (this.store ??= this.open());
  }

  async append(input: AppendInput) {
    return this.get().append(input);
  }

  async status(accountId: number) {
    return this.get().status(accountId);
  }

  async list(accountId: number) {
    return this.get().list(accountId);
  }

  async read(accountId: number, uid: number) {
    return this.get().read(accountId, uid);
  }

  async expunge(accountId: number, uids: readonly number[]) {
    return this.get().expunge(accountId, uids);
  }

  async close() {
    await this.store?.close();
    this.store = undefined;
  }
}
