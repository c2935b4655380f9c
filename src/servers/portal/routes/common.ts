import type { FastifyRequest } from 'fastify';
import { AddressError, normalizeAddress, parseDomain } from '../../../mail/index.js';
import type { AccountRecord, DomainRecord } from '../../../directory/index.js';
import { requireManaged, type Actor } from '../actor.js';
import type { LastLogin } from '../../../auth/index.js';
import { withDeadline, type MailboxStatus } from '../../../mailstore/index.js';
import type { PortalDeps } from '../deps.js';
import { badRequest, notFound } from '../problems.js';

/** An address from a path or body, normalized; a 400 naming the field when it is not one. */
export function addressParam(text: string, field = 'address'): string {
  try {
    return normalizeAddress(text);
  } catch (err) {
    if (err instanceof AddressError) throw badRequest(`${err.message}.`, { field });
    throw err;
  }
}

/**
 * The account a path names, if the actor manages its domain and it exists; otherwise a
 * 404 that does not tell which (tenant isolation). Read from the store, not the cache: a
 * page shows an account added a moment ago on another instance.
 */
export async function managedAccount(deps: PortalDeps, actor: Actor, raw: string): Promise<{ account: AccountRecord; domain: DomainRecord }> {
  const address = addressParam(raw);
  const domain = requireManaged(actor, deps.directory, address, `The account ${address}`);
  const account = (await deps.store.listAccounts(domain.name)).find((a) => a.address === address);
  if (!account) throw notFound(`The account ${address}`);
  return { account, domain };
}

/** An alias key: an address, or `@domain` for a catch-all. */
export function aliasParam(text: string): string {
  if (!text.startsWith('@')) return addressParam(text);
  try {
    return '@' + parseDomain(text.slice(1));
  } catch (err) {
    if (err instanceof AddressError) throw badRequest(`${err.message}.`, { field: 'address' });
    throw err;
  }
}

/** Forwarding or alias targets: each an address, no duplicates, at least one. */
export function targetsParam(list: readonly string[]): string[] {
  if (list.length === 0) throw badRequest('Give at least one target address.', { field: 'targets' });
  return [...new Set(list.map((t) => addressParam(t, 'targets')))];
}

export type Usage = { messages: number; bytes: number } | null;

/**
 * Mailbox figures from the mailbox store, each within the deadline; null for those it did
 * not answer in time (the page says "temporarily unavailable", principle 4).
 */
export async function usageOf(deps: PortalDeps, accounts: readonly AccountRecord[]): Promise<Map<number, Usage>> {
  const entries = await Promise.all(
    accounts.map(async (a): Promise<[number, Usage]> => {
      try {
        const s: MailboxStatus = await withDeadline(deps.mailStore.status(a.id), deps.options.storeTimeoutMs);
        return [a.id, { messages: s.messages, bytes: s.usedBytes }];
      } catch (err) {
        deps.log.debug({ err, account: a.address }, 'mailbox figures unavailable');
        return [a.id, null];
      }
    }),
  );
  return new Map(entries);
}

/** An account as the API shows it (never its password hash). */
export function accountView(a: AccountRecord, usage: Usage | undefined, lastLogin: LastLogin | undefined) {
  return {
    address: a.address,
    domain: a.domain,
    name: a.name,
    department: a.department,
    role: a.role,
    state: a.disabled ? 'disabled' : 'active',
    quotaBytes: a.quotaBytes,
    mustChangePassword: a.mustChangePassword,
    createdAt: new Date(a.createdAt).toISOString(),
    lastLogin: lastLogin ? { at: new Date(lastLogin.at).toISOString(), protocol: lastLogin.protocol } : null,
    usage: usage ?? null,
  };
}

export const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
export const addressList = { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 320 } } as const;

/** The hosted domain a path's :domain names, if the actor manages it; otherwise a 404 that does not tell which. */
export function managedDomain(deps: PortalDeps, request: FastifyRequest<{ Params: { domain: string } }>): DomainRecord {
  return requireManaged(request.actor!, deps.directory, `x@${request.params.domain.toLowerCase()}`, `The domain ${request.params.domain}`);
}
