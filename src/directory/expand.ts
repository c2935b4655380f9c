import { domainOf } from '../mail/index.js';
import type { AccountRecord, AliasRecord, ForwardRecord } from './types.js';

/** The maps recipient expansion reads; built from a DirectorySnapshot. */
export interface DirectoryIndex {
  readonly domains: ReadonlySet<string>;
  readonly accounts: ReadonlyMap<string, AccountRecord>;
  readonly aliases: ReadonlyMap<string, AliasRecord>;
  readonly forwards: ReadonlyMap<string, ForwardRecord>;
}

// Postfix's virtual_alias_recursion_limit is 1000; 20 is deep enough for real directories.
const MAX_DEPTH = 20;

/** True if mail to this (normalized) address is deliverable: an account, an alias or a catch-all. */
export function isKnownRecipient(index: DirectoryIndex, address: string): boolean {
  return index.accounts.has(address) || index.aliases.has(address) || index.aliases.has('@' + domainOf(address));
}

/**
 * The accounts a message for `address` lands in, after aliases, catch-alls and forwards.
 * Each account appears once. Empty when the address is unknown.
 *
 * Loops: an address seen twice on one path is not followed again. An account whose
 * forwarding leads to no mailbox at all (a loop, or targets since removed) keeps the
 * mail itself, because mail that got a 250 must never vanish (DESIGN.md principle 2).
 */
export function expandRecipient(index: DirectoryIndex, address: string): AccountRecord[] {
  const out = new Map<number, AccountRecord>();
  const walk = (addr: string, depth: number, path: Set<string>): boolean => {
    if (depth > MAX_DEPTH || path.has(addr)) return false;
    const next = new Set(path).add(addr);
    const alias = index.aliases.get(addr);
    if (alias) return walkAll(alias.targets, depth, next);
    const account = index.accounts.get(addr);
    if (account) {
      const forward = index.forwards.get(addr);
      const reached = forward ? walkAll(forward.targets, depth, next) : false;
      if (!forward || forward.keepCopy || !reached) out.set(account.id, account);
      return true;
    }
    const catchAll = index.aliases.get('@' + domainOf(addr));
    if (catchAll) return walkAll(catchAll.targets, depth, next);
    return false;
  };
  const walkAll = (targets: readonly string[], depth: number, path: Set<string>): boolean => {
    let any = false;
    for (const t of targets) any = walk(t, depth + 1, path) || any;
    return any;
  };
  walk(address, 0, new Set());
  return [...out.values()];
}
