/** The directory's rows as every backend's queries name their columns (flags as 0/1, JSON as text, times as ms). */
import type { AccountPatch, AccountRecord, AccountRole, AliasRecord, AutoReplyRecord, DkimKeyRecord, DnsRecord, DomainRecord, ForwardRecord, OperatorRecord, TenantRecord } from '../directory/index.js';

export interface DkimRow {
  domain: string;
  selector: string;
  algorithm: DkimKeyRecord['algorithm'];
  private_key: string;
  public_key: string;
  active: number;
  created_at: number;
}

export const toDkim = (r: DkimRow): DkimKeyRecord => ({
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm,
  privateKey: r.private_key,
  publicKey: r.public_key,
  active: r.active === 1,
  createdAt: r.created_at,
});

export interface DnsRecordRow {
  id: number | string;
  domain: string;
  name: string;
  type: DnsRecord['type'];
  ttl: number;
  value: string;
}

export const toDnsRecord = (r: DnsRecordRow): DnsRecord => ({ id: Number(r.id), domain: r.domain, name: r.name, type: r.type, ttl: r.ttl, value: r.value });

export interface AccountRow {
  id: number;
  address: string;
  domain: string;
  password_hash: string;
  quota_bytes: number;
  created_at: number;
  name: string;
  department: string;
  role: AccountRole;
  disabled: number;
  must_change: number;
}

export const toAccount = (r: AccountRow): AccountRecord => ({
  id: r.id,
  address: r.address,
  domain: r.domain,
  passwordHash: r.password_hash,
  quotaBytes: r.quota_bytes,
  createdAt: r.created_at,
  name: r.name,
  department: r.department,
  role: r.role,
  disabled: r.disabled === 1,
  mustChangePassword: r.must_change === 1,
});

export const toAlias = (r: { address: string; domain: string; targets: string }): AliasRecord => ({
  address: r.address,
  domain: r.domain,
  targets: JSON.parse(r.targets) as string[],
});

export const toForward = (r: { address: string; targets: string; keep_copy: number; enabled: number; conditions: string | null }): ForwardRecord => ({
  account: r.address,
  targets: JSON.parse(r.targets) as string[],
  keepCopy: r.keep_copy === 1,
  enabled: r.enabled === 1,
  conditions: r.conditions === null ? null : (JSON.parse(r.conditions) as ForwardRecord['conditions']),
});

export interface AutoReplyRow {
  address: string;
  enabled: number;
  subject: string;
  body: string;
  starts_at: number | null;
  ends_at: number | null;
}

export const toAutoReply = (r: AutoReplyRow): AutoReplyRecord => ({ account: r.address, enabled: r.enabled === 1, subject: r.subject, body: r.body, startsAt: r.starts_at, endsAt: r.ends_at });

export interface TenantRow {
  id: number;
  name: string;
  display_name: string;
  suspended: number;
  created_at: number;
}

export const toTenant = (r: TenantRow): TenantRecord => ({ name: r.name, displayName: r.display_name, suspended: r.suspended === 1, createdAt: r.created_at });

export const toDomain = (r: { name: string; tenant: string; created_at: number; retention_days: number | null }): DomainRecord => ({ name: r.name, tenant: r.tenant, createdAt: r.created_at, retentionDays: r.retention_days });

export const toOperator = (r: { login: string; password_hash: string; created_at: number }): OperatorRecord => ({ login: r.login, passwordHash: r.password_hash, createdAt: r.created_at });

/** The accounts' columns each field of a patch sets. */
export const PATCH_COLUMNS: Record<keyof AccountPatch, string> = {
  name: 'name',
  department: 'department',
  quotaBytes: 'quota_bytes',
  role: 'role',
  disabled: 'disabled',
  mustChangePassword: 'must_change',
};
