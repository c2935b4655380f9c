/**
 * A customer company. Its domains, their accounts, aliases and forwards are its own;
 * its administrators manage them. A suspended tenant's users cannot log in anywhere
 * (mail for them is still accepted and delivered: suspending never loses mail).
 */
export interface TenantRecord {
  /** Short key, e.g. `acme` (lower case letters, digits, dashes). */
  readonly name: string;
  readonly displayName: string;
  readonly suspended: boolean;
  readonly createdAt: number;
}

/** The tenant that domains hosted before tenants existed belong to. */
export const DEFAULT_TENANT = 'default';

/** A hosted domain, owned by one tenant. */
export interface DomainRecord {
  readonly name: string;
  readonly tenant: string;
  readonly createdAt: number;
  /** Mail older than this many days is deleted from the domain's mailboxes; null: kept (the default). */
  readonly retentionDays: number | null;
}

/**
 * What an account may do beyond reading and sending its own mail: a tenant administrator
 * manages every domain of its tenant, a domain administrator only its own domain.
 */
export type AccountRole = 'user' | 'domain-admin' | 'tenant-admin';
export const ACCOUNT_ROLES: readonly AccountRole[] = ['user', 'domain-admin', 'tenant-admin'];

/** An account: a person's mailbox. `address` is the lookup key (see mail/addressKey). */
export interface AccountRecord {
  readonly id: number;
  readonly address: string;
  readonly domain: string;
  readonly passwordHash: string;
  /** Mailbox quota in bytes; 0 means unlimited. */
  readonly quotaBytes: number;
  readonly createdAt: number;
  /** The person's name and department, as the administrator typed them (shown, never parsed). */
  readonly name: string;
  readonly department: string;
  readonly role: AccountRole;
  /** A disabled account logs in nowhere; its mail is still delivered. */
  readonly disabled: boolean;
  /** The next portal login must set a new password before anything else. */
  readonly mustChangePassword: boolean;
}

/** What an administrator may change about an account (absent: unchanged). */
export interface AccountPatch {
  readonly name?: string;
  readonly department?: string;
  readonly quotaBytes?: number;
  readonly role?: AccountRole;
  readonly disabled?: boolean;
  readonly mustChangePassword?: boolean;
}

/**
 * What users may do for themselves, set per domain and overridden per account: change
 * their password, forward outside their tenant's domains, set an automatic reply, and
 * log in over each protocol, from the listed networks only (CIDR; empty: anywhere).
 */
export interface AccessPolicy {
  readonly changePassword: boolean;
  readonly forwardOutside: boolean;
  readonly autoReply: boolean;
  readonly pop3: boolean;
  readonly imap: boolean;
  readonly submission: boolean;
  readonly allowFrom: readonly string[];
}

/** Everything allowed, from anywhere: what a domain without its own policy has. */
export const OPEN_POLICY: AccessPolicy = { changePassword: true, forwardOutside: true, autoReply: true, pop3: true, imap: true, submission: true, allowFrom: [] };

/** A policy and what it applies to: `domain:<name>` or `account:<address>`. */
export interface PolicyRecord {
  readonly scope: string;
  readonly policy: AccessPolicy;
}

/** The provider's staff: they log in to the portal by login name, outside every tenant. */
export interface OperatorRecord {
  readonly login: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

/** An alias: `address` (or `@domain` for a catch-all) delivers to every target. */
export interface AliasRecord {
  readonly address: string;
  readonly domain: string;
  readonly targets: readonly string[];
}

/** Forwarding of an account's mail to other addresses, optionally keeping a copy. */
export interface ForwardRecord {
  readonly account: string;
  readonly targets: readonly string[];
  readonly keepCopy: boolean;
  /** Off keeps the targets for later; mail then stays in the mailbox only. */
  readonly enabled: boolean;
  /** Forward only the mail that matches; null: all of it. */
  readonly conditions: ForwardConditions | null;
}

/** Which mail a forward takes: each non-empty text must occur (case-insensitive) in the Subject / the sender. */
export interface ForwardConditions {
  readonly subjectContains: string;
  /** Matched against the From: field and the envelope sender. */
  readonly fromContains: string;
}

/**
 * An account's automatic reply ("vacation", RFC 3834): sent at most once per sender per
 * interval, only while enabled and between `startsAt` and `endsAt` (ms; null: open-ended).
 */
export interface AutoReplyRecord {
  readonly account: string;
  readonly enabled: boolean;
  readonly subject: string;
  readonly body: string;
  readonly startsAt: number | null;
  readonly endsAt: number | null;
}

export type AutoReplyInput = Omit<AutoReplyRecord, 'account'>;

/** A DKIM signing key of a domain (RFC 6376); the newest one signs, older ones stay published. */
export interface DkimKeyRecord {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** The p= value of the DNS record: base64 SPKI for RSA, the raw key for Ed25519 (RFC 8463). */
  readonly publicKey: string;
  /** True for the one key that signs the domain's mail now. */
  readonly active: boolean;
  readonly createdAt: number;
}

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export type NewDkimKey = Omit<DkimKeyRecord, 'domain' | 'active' | 'createdAt'>;

/** The record types tenant administrators may add to their zones. */
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV', 'CAA'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** A record a tenant administrator added to a hosted domain's zone; the dns role serves it beside the managed ones. */
export interface DnsRecord {
  readonly id: number;
  readonly domain: string;
  /** The owner name relative to the domain, lower case: '@' for the domain itself, 'www', '_acme-challenge.shop'. */
  readonly name: string;
  readonly type: DnsRecordType;
  readonly ttl: number;
  /** The data in zone-file form, normalized (TXT: the text itself, unquoted). */
  readonly value: string;
}

export type DnsRecordInput = Omit<DnsRecord, 'id' | 'domain'>;

export interface DirectorySnapshot {
  readonly version: number;
  readonly tenants: readonly TenantRecord[];
  readonly operators: readonly OperatorRecord[];
  readonly domains: readonly DomainRecord[];
  /** Every DKIM key, the active one of each domain first (retired keys stay published in DNS). */
  readonly dkimKeys: readonly DkimKeyRecord[];
  /** Every tenant-added DNS record, by domain and id. */
  readonly dnsRecords: readonly DnsRecord[];
  readonly accounts: readonly AccountRecord[];
  readonly aliases: readonly AliasRecord[];
  readonly forwards: readonly ForwardRecord[];
  readonly autoReplies: readonly AutoReplyRecord[];
  readonly policies: readonly PolicyRecord[];
}

/**
 * Persistent directory of domains, accounts, aliases and forwards.
 *
 * Contract for every backend:
 * - Addresses arrive normalized (mail/addressKey); the store compares them exactly.
 * - An address is an account or an alias, never both (ERR_ADDRESS_TAKEN).
 * - Accounts, aliases and forwards belong to a hosted domain (ERR_DOMAIN_UNKNOWN); every
 *   domain belongs to a tenant (ERR_TENANT_UNKNOWN), `default` when none is named.
 * - A domain's DNS records go with the domain.
 * - Every committed change increases `version()`, so caches in other processes see it.
 * - Errors are HikyakuError with a directory code; nothing else escapes.
 */
export interface DirectoryStore {
  /** ERR_TENANT_EXISTS if the name is taken. */
  addTenant(name: string, displayName: string): Promise<TenantRecord>;
  listTenants(): Promise<TenantRecord[]>;
  setTenantSuspended(name: string, suspended: boolean): Promise<void>;
  /** Moves a domain (with its accounts and aliases) to another tenant. */
  setDomainTenant(domain: string, tenant: string): Promise<void>;
  /** Sets the domain's retention rule (days), or removes it (null). */
  setDomainRetention(domain: string, days: number | null): Promise<void>;

  /** Adds the domain to `tenant` (default: DEFAULT_TENANT) and, in the same transaction, its first DKIM key. */
  addDomain(name: string, dkim?: NewDkimKey, tenant?: string): Promise<DomainRecord>;
  /** Refuses (ERR_DOMAIN_NOT_EMPTY) while accounts or aliases remain, unless `force`. */
  removeDomain(name: string, force: boolean): Promise<void>;
  listDomains(): Promise<DomainRecord[]>;

  addAccount(input: { address: string; passwordHash: string; quotaBytes: number } & AccountPatch): Promise<AccountRecord>;
  /** Sets the password; `mustChange` (default false) asks for a new one at the next portal login. */
  setPassword(address: string, passwordHash: string, mustChange?: boolean): Promise<void>;
  updateAccount(address: string, patch: AccountPatch): Promise<AccountRecord>;
  setQuota(address: string, quotaBytes: number): Promise<void>;
  /** Removes the account and its forward. Its stored mail is not touched. */
  removeAccount(address: string): Promise<void>;
  listAccounts(domain?: string): Promise<AccountRecord[]>;

  /** Creates the alias, or replaces its targets if it exists. */
  setAlias(address: string, targets: readonly string[]): Promise<AliasRecord>;
  removeAlias(address: string): Promise<void>;
  listAliases(domain?: string): Promise<AliasRecord[]>;

  /** Creates or replaces the forward; `enabled` (default true) false keeps it without forwarding. */
  setForward(account: string, targets: readonly string[], keepCopy: boolean, enabled?: boolean, conditions?: ForwardConditions | null): Promise<ForwardRecord>;
  removeForward(account: string): Promise<void>;
  listForwards(domain?: string): Promise<ForwardRecord[]>;

  /** Adds a key and makes it the one that signs (rotation); the old ones are kept. ERR_DKIM_SELECTOR_TAKEN if the selector exists. */
  addDkimKey(domain: string, key: NewDkimKey): Promise<DkimKeyRecord>;
  /** Every key of the domain, newest first. */
  listDkimKeys(domain: string): Promise<DkimKeyRecord[]>;

  /** Adds a record to the domain's zone (validated by the caller: zones/custom-records). */
  addDnsRecord(domain: string, record: DnsRecordInput): Promise<DnsRecord>;
  /** ERR_DNS_RECORD_UNKNOWN unless the domain has a record with this id. */
  updateDnsRecord(domain: string, id: number, record: DnsRecordInput): Promise<DnsRecord>;
  removeDnsRecord(domain: string, id: number): Promise<void>;
  /** The domain's added records, by name, type and id. */
  listDnsRecords(domain: string): Promise<DnsRecord[]>;

  /** Creates or replaces the account's automatic reply; it goes with the account. */
  setAutoReply(account: string, reply: AutoReplyInput): Promise<AutoReplyRecord>;
  removeAutoReply(account: string): Promise<void>;
  listAutoReplies(domain?: string): Promise<AutoReplyRecord[]>;

  /** Sets the policy of `domain:<name>` or `account:<address>` (which must exist); undefined removes it (inherit). */
  setPolicy(scope: string, policy: AccessPolicy | undefined): Promise<void>;

  /** ERR_OPERATOR_EXISTS if the login is taken. */
  addOperator(login: string, passwordHash: string): Promise<OperatorRecord>;
  setOperatorPassword(login: string, passwordHash: string): Promise<void>;
  removeOperator(login: string): Promise<void>;
  listOperators(): Promise<OperatorRecord[]>;

  /** The whole directory at one version, for caches. */
  snapshot(): Promise<DirectorySnapshot>;
  /** The current change counter; cheap. */
  version(): Promise<number>;
  /**
   * Calls `onChange` soon after any node commits a change (and after the store's connection
   * comes back, when changes may have been missed); a store that cannot push lacks it and is polled.
   */
  follow?(onChange: () => void): () => Promise<void>;
  close(): Promise<void>;
}
