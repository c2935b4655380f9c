import { domainOf } from '../mail/index.js';
import type { AccountRecord, AliasRecord, ForwardRecord } from './types.js';

/** The maps recipient expansion reads; built from a DirectorySnapshot. */
export interface DirectoryIndex {
  readonly domains: ReadonlySet<string>;
  readonly accounts: ReadonlyMap<string, AccountRecord>;
  readonly aliases: ReadonlyMap<string, AliasRecord>;
  readonly forwards: ReadonlyMap<string, ForwardRecord>;
  /**
   * Where postmaster@<domain> goes when the domain has no such account or alias
   * (RFC 5321 §4.5.1: every domain must accept it): the operator's mailbox, if configured,
   * else the domain's first account, its administrator until tenants exist.
   */
  readonly postmaster: ReadonlyMap<string, readonly string[]>;
}

const isPostmaster = (address: string) => address.startsWith('postmaster@');

// Postfix's virtual_alias_recursion_limit is 1000; 20 is deep enough for real directories.
const MAX_DEPTH = 20;

/** True if mail to this (normalized) address is deliverable: an account, an alias or a catch-all. */
export function isKnownRecipient(index: DirectoryIndex, address: string): boolean {
  return (
    index.accounts.has(address) ||
    index.aliases.has(address) ||
    index.aliases.has('@' + domainOf(address)) ||
    (isPostmaster(address) && index.postmaster.has(domainOf(address)))
  );
}

/** Where a message for one recipient goes: mailboxes here, and addresses elsewhere. */
export interface Expansion {
  readonly accounts: AccountRecord[];
  /** Targets outside the hosted domains (forwards, aliases): relayed. */
  readonly remote: string[];
}

/**
 * The accounts a message for `address` lands in, after aliases, catch-alls and forwards,
 * and the outside addresses it is forwarded to. Each appears once. Both are empty when
 * the address is unknown.
 *
 * Loops: an address seen twice on one path is not followed again. An account whose
 * forwarding leads to no mailbox at all (a loop, or targets since removed) keeps the
 * mail itself, because mail that got a 250 must never vanish (DESIGN.md principle 2).
 * `localOnly`: targets outside are not followed (mail from a null sender, postmaster or
 * MAILER-DAEMON is never forwarded out: that is how bounce loops start), so an account
 * forwarding only outside keeps such mail. `follows` decides, per forward, whether this
 * message takes it (conditional forwarding); one it does not take is as if absent.
 */
export function expandRecipient(index: DirectoryIndex, address: string, localOnly = false, follows: (f: ForwardRecord) => boolean = () => true): Expansion {
  const out = new Map<number, AccountRecord>();
  const remote = new Set<string>();
  const walk = (addr: string, depth: number, path: Set<string>): boolean => {
    if (depth > MAX_DEPTH || path.has(addr)) return false;
    if (depth > 0 && !index.domains.has(domainOf(addr))) {
      if (localOnly) return false;
      remote.add(addr);
      return true;
    }
    const next = new Set(path).add(addr);
    const alias = index.aliases.get(addr);
    if (alias) return walkAll(alias.targets, depth, next);
    const account = index.accounts.get(addr);
    if (account) {
      const found = index.forwards.get(addr);
      const forward = found && follows(found) ? found : undefined;
      const reached = forward ? walkAll(forward.targets, depth, next) : false;
      if (!forward || forward.keepCopy || !reached) out.set(account.id, account);
      return true;
    }
    const catchAll = index.aliases.get('@' + domainOf(addr));
    if (catchAll) return walkAll(catchAll.targets, depth, next);
    const postmaster = isPostmaster(addr) ? index.postmaster.get(domainOf(addr)) : undefined;
    if (postmaster) return walkAll(postmaster, depth, next);
    return false;
  };
  const walkAll = (targets: readonly string[], depth: number, path: Set<string>): boolean => {
    let any = false;
    for (const t of targets) any = walk(t, depth + 1, path) || any;
    return any;
  };
  walk(address, 0, new Set());
  return { accounts: [...out.values()], remote: [...remote] };
}
