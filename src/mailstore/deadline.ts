import { HikyakuError } from '../mail/index.js';

/**
 * Resolves or rejects with `work`, or rejects with ERR_STORE_TIMEOUT after `ms`: callers of
 * the mailbox store never hang on it (DESIGN.md principles 3 and 4). The store call itself
 * may still complete later; appends are idempotent for that reason.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HikyakuError('ERR_STORE_TIMEOUT', `no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** True for the error withDeadline throws. */
export function isStoreTimeout(err: unknown): boolean {
  return err instanceof HikyakuError && err.code === 'ERR_STORE_TIMEOUT';
}
