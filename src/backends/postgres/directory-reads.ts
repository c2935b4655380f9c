import { sql, type Kysely, type Transaction } from 'kysely';
import type { AccessPolicy, AccountRecord, AliasRecord, AutoReplyRecord, DnsRecord, DomainRecord, ForwardRecord, OperatorRecord, PolicyRecord, TenantRecord } from '../../directory/index.js';
import { toAccount, toAlias, toAutoReply, toDnsRecord, toDomain, toForward, toOperator, toTenant, type AccountRow, type AutoReplyRow, type DnsRecordRow, type TenantRow } from '../directory-rows.js';

/** The pool or a transaction: what a read runs on. */
export type Reader = Kysely<any> | Transaction<any>;

const byDomain = (domain: string | undefined, column: string) => (domain === undefined ? sql`` : sql`WHERE ${sql.ref(column)} = ${domain}`);

/**
 * The directory's lists, each one statement: for list calls and, in one transaction,
 * snapshots. Text is sorted byte-wise (COLLATE "C"), as SQLite sorts it, so both backends
 * list in the same order.
 */
export async function tenantsIn(db: Reader): Promise<TenantRecord[]> {
  return (await sql<TenantRow>`SELECT * FROM tenants ORDER BY name COLLATE "C"`.execute(db)).rows.map(toTenant);
}

export async function domainsIn(db: Reader): Promise<DomainRecord[]> {
  const r = await sql<Parameters<typeof toDomain>[0]>`SELECT d.name, t.name AS tenant, d.created_at, d.retention_days FROM domains d JOIN tenants t ON t.id = d.tenant_id ORDER BY d.name COLLATE "C"`.execute(db);
  return r.rows.map(toDomain);
}

export async function policiesIn(db: Reader): Promise<PolicyRecord[]> {
  const r = await sql<{ scope: string; policy: string }>`SELECT scope, policy FROM policies ORDER BY scope COLLATE "C"`.execute(db);
  return r.rows.map((x) => ({ scope: x.scope, policy: JSON.parse(x.policy) as AccessPolicy }));
}

export async function accountsIn(db: Reader, domain?: string): Promise<AccountRecord[]> {
  return (await sql<AccountRow>`SELECT * FROM accounts ${byDomain(domain, 'domain')} ORDER BY address COLLATE "C"`.execute(db)).rows.map(toAccount);
}

export async function aliasesIn(db: Reader, domain?: string): Promise<AliasRecord[]> {
  return (await sql<{ address: string; domain: string; targets: string }>`SELECT * FROM aliases ${byDomain(domain, 'domain')} ORDER BY address COLLATE "C"`.execute(db)).rows.map(toAlias);
}

export async function autoRepliesIn(db: Reader, domain?: string): Promise<AutoReplyRecord[]> {
  const r = await sql<AutoReplyRow>`SELECT a.address, r.enabled, r.subject, r.body, r.starts_at, r.ends_at FROM autoreplies r JOIN accounts a ON a.id = r.account_id
    ${byDomain(domain, 'a.domain')} ORDER BY a.address COLLATE "C"`.execute(db);
  return r.rows.map(toAutoReply);
}

export async function forwardsIn(db: Reader, domain?: string): Promise<ForwardRecord[]> {
  const r = await sql<Parameters<typeof toForward>[0]>`SELECT a.address, f.targets, f.keep_copy, f.enabled, f.conditions FROM forwards f JOIN accounts a ON a.id = f.account_id
    ${byDomain(domain, 'a.domain')} ORDER BY a.address COLLATE "C"`.execute(db);
  return r.rows.map(toForward);
}

export async function operatorsIn(db: Reader): Promise<OperatorRecord[]> {
  return (await sql<Parameters<typeof toOperator>[0]>`SELECT * FROM operators ORDER BY login COLLATE "C"`.execute(db)).rows.map(toOperator);
}

export async function dnsRecordsIn(db: Reader, domain?: string): Promise<DnsRecord[]> {
  const r = await sql<DnsRecordRow>`SELECT * FROM dns_records ${byDomain(domain, 'domain')} ORDER BY domain COLLATE "C", name COLLATE "C", type COLLATE "C", id`.execute(db);
  return r.rows.map(toDnsRecord);
}
