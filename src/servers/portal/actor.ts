import type { AccountRecord, DomainRecord, LoginDirectory } from '../../directory/index.js';
import { domainOf } from '../../mail/index.js';
import { notFound } from './problems.js';

/**
 * Who makes a request: a provider operator, an account of a tenant, or an API token (an
 * administrator of its tenant, or of every tenant when an operator made it without one).
 */
export type Actor =
  | { readonly kind: 'operator'; readonly login: string }
  | { readonly kind: 'account'; readonly account: AccountRecord; readonly tenant: string }
  | { readonly kind: 'token'; readonly id: string; readonly name: string; readonly tenant: string | null };

/** The name the audit log records. */
export const actorName = (a: Actor) => (a.kind === 'operator' ? `operator:${a.login}` : a.kind === 'token' ? `token:${a.name}` : a.account.address);

/** The tenant an actor is confined to; undefined for the provider's (operators, provider-wide tokens). */
export const tenantScope = (a: Actor): string | undefined => (a.kind === 'operator' ? undefined : a.kind === 'token' ? (a.tenant ?? undefined) : a.tenant);

/** Administers a whole tenant (or all): may make tenant administrators, read the audit log, manage tokens. */
export const isTenantAdmin = (a: Actor) => a.kind !== 'account' || a.account.role === 'tenant-admin';

/** The domains an actor manages: every one (operator), its tenant's, its own, or none (user). */
export function manageableDomains(actor: Actor, directory: LoginDirectory): DomainRecord[] {
  if (actor.kind === 'operator') return directory.domains();
  if (actor.kind === 'token') return directory.domains(actor.tenant ?? undefined);
  switch (actor.account.role) {
    case 'tenant-admin':
      return directory.domains(actor.tenant);
    case 'domain-admin':
      return directory.domains(actor.tenant).filter((d) => d.name === actor.account.domain);
    default:
      return [];
  }
}

export const isAdmin = (actor: Actor) => actor.kind !== 'account' || actor.account.role !== 'user';

/**
 * The domain of `address` (an account, an alias or `@domain`) if the actor manages it;
 * otherwise a 404 that does not tell whether the object exists (tenant isolation).
 */
export function requireManaged(actor: Actor, directory: LoginDirectory, address: string, what: string): DomainRecord {
  const domain = domainOf(address);
  const found = manageableDomains(actor, directory).find((d) => d.name === domain);
  if (!found) throw notFound(what);
  return found;
}
