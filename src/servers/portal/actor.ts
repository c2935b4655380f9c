import type { AccountRecord, DomainRecord, LoginDirectory } from '../../directory/index.js';
import { domainOf } from '../../mail/index.js';
import { notFound } from './problems.js';

/** Who makes a request: a provider operator, or an account of a tenant. */
export type Actor =
  | { readonly kind: 'operator'; readonly login: string }
  | { readonly kind: 'account'; readonly account: AccountRecord; readonly tenant: string };

/** The name the audit log records. */
export const actorName = (a: Actor) => (a.kind === 'operator' ? `operator:${a.login}` : a.account.address);

/** The domains an actor manages: every one (operator), its tenant's, its own, or none (user). */
export function manageableDomains(actor: Actor, directory: LoginDirectory): DomainRecord[] {
  if (actor.kind === 'operator') return directory.domains();
  switch (actor.account.role) {
    case 'tenant-admin':
      return directory.domains(actor.tenant);
    case 'domain-admin':
      return directory.domains(actor.tenant).filter((d) => d.name === actor.account.domain);
    default:
      return [];
  }
}

export const isAdmin = (actor: Actor) => actor.kind === 'operator' || actor.account.role !== 'user';

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
