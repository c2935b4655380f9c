import type { AccessPolicy, AccountRecord, AliasRecord, AutoReplyRecord, DnsRecord, DomainRecord, ForwardRecord, OperatorRecord, PolicyRecord, TenantRecord } from '../../directory/index.js';
import type { Db } from './db.js';
import { toAccount, toAlias, toAutoReply, toDnsRecord, toDomain, toForward, toOperator, toTenant, type AccountRow, type AutoReplyRow, type DnsRecordRow, type TenantRow } from './directory-schema.js';

/** The directory's lists, each read as one statement: for list calls and, in one transaction, snapshots. */
const DOMAIN_SQL = 'SELECT d.name, t.name AS tenant, d.created_at, d.retention_days FROM domains d JOIN tenants t ON t.id = d.tenant_id';

export function tenantsNow(db: Db): TenantRecord[] {
  return (db.prepare('SELECT * FROM tenants ORDER BY name').all() as TenantRow[]).map(toTenant);
}

export function domainsNow(db: Db): DomainRecord[] {
  return (db.prepare(`${DOMAIN_SQL} ORDER BY d.name`).all() as Parameters<typeof toDomain>[0][]).map(toDomain);
}

export function policiesNow(db: Db): PolicyRecord[] {
  return (db.prepare('SELECT scope, policy FROM policies ORDER BY scope').all() as { scope: string; policy: string }[]).map((r) => ({ scope: r.scope, policy: JSON.parse(r.policy) as AccessPolicy }));
}

export function accountsNow(db: Db, domain?: string): AccountRecord[] {
  const rows = domain
    ? db.prepare('SELECT * FROM accounts WHERE domain = ? ORDER BY address').all(domain)
    : db.prepare('SELECT * FROM accounts ORDER BY address').all();
  return (rows as AccountRow[]).map(toAccount);
}

export function aliasesNow(db: Db, domain?: string): AliasRecord[] {
  const rows = domain
    ? db.prepare('SELECT * FROM aliases WHERE domain = ? ORDER BY address').all(domain)
    : db.prepare('SELECT * FROM aliases ORDER BY address').all();
  return (rows as { address: string; domain: string; targets: string }[]).map(toAlias);
}

export function autoRepliesNow(db: Db, domain?: string): AutoReplyRecord[] {
  const sql = 'SELECT a.address, r.enabled, r.subject, r.body, r.starts_at, r.ends_at FROM autoreplies r JOIN accounts a ON a.id = r.account_id';
  const rows = domain ? db.prepare(`${sql} WHERE a.domain = ? ORDER BY a.address`).all(domain) : db.prepare(`${sql} ORDER BY a.address`).all();
  return (rows as AutoReplyRow[]).map(toAutoReply);
}

export function forwardsNow(db: Db, domain?: string): ForwardRecord[] {
  const sql = 'SELECT a.address, f.targets, f.keep_copy, f.enabled, f.conditions FROM forwards f JOIN accounts a ON a.id = f.account_id';
  const rows = domain ? db.prepare(`${sql} WHERE a.domain = ? ORDER BY a.address`).all(domain) : db.prepare(`${sql} ORDER BY a.address`).all();
  return (rows as Parameters<typeof toForward>[0][]).map(toForward);
}

export function operatorsNow(db: Db): OperatorRecord[] {
  return (db.prepare('SELECT * FROM operators ORDER BY login').all() as Parameters<typeof toOperator>[0][]).map(toOperator);
}

export function dnsRecordsNow(db: Db, domain?: string): DnsRecord[] {
  const order = 'ORDER BY domain, name, type, id';
  const rows = domain ? db.prepare(`SELECT * FROM dns_records WHERE domain = ? ${order}`).all(domain) : db.prepare(`SELECT * FROM dns_records ${order}`).all();
  return (rows as DnsRecordRow[]).map(toDnsRecord);
}
