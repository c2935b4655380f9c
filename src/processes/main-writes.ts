import type { MailStore } from '../mailstore/index.js';
import type { Handler, RpcChannel } from './rpc.js';

/**
 * The mailbox store calls of POP3 and IMAP sessions that write. On the embedded store a
 * session worker sends them to the main process, so that one process writes (its group
 * commit batches every process's changes into one fsync) and no worker's event loop waits
 * on another process's write lock. `folder` and `folders` are among them: on an account that
 * never had its folders (mail only ever came by delivery and POP3) they make them first.
 */
export const SESSION_WRITES = ['expunge', 'folder', 'folders', 'createFolder', 'deleteFolder', 'renameFolder', 'setSubscribed', 'storeFlags', 'appendMessage', 'copyMessages', 'expungeMessages'] as const satisfies readonly (keyof MailStore)[];

// A forwarded write waits at most this long; the session's own deadline (storeTimeoutMs) is shorter.
const WRITE_CALL_MS = 60_000;

/** `local` for reads, the main process (`main`) for writes. */
export function writesThroughMain(local: MailStore, main: RpcChannel): MailStore {
  const forwarded = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>(SESSION_WRITES.map((m) => [m, (...args: unknown[]) => main.call(`store.${m}`, args, WRITE_CALL_MS)]));
  // SELECT's listing is read here (it may be long), after the main process made sure the
  // account's folders exist (else the listing would make them, writing from this process).
  forwarded.set('messages', async (accountId: unknown, folder: unknown) => {
    await main.call('store.folder', [accountId, folder], WRITE_CALL_MS);
    return local.messages(accountId as number, folder as string);
  });
  return new Proxy(local, {
    get(target, prop) {
      const value = forwarded.get(prop) ?? Reflect.get(target, prop, target);
      return typeof value === 'function' && !forwarded.has(prop) ? value.bind(target) : value;
    },
  });
}

/** The main process's side: runs a worker's forwarded writes on its own store. */
export function mainWriteHandlers(store: () => MailStore): Record<string, Handler> {
  return Object.fromEntries(SESSION_WRITES.map((m) => [`store.${m}`, (...args: unknown[]) => (store()[m] as (...a: unknown[]) => unknown)(...args)]));
}
