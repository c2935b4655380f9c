import { HikyakuError, domainOf } from '../../mail/index.js';
import {
  DEFAULT_TENANT,
  type AccountPatch,
  type AccountRecord,
  type AliasRecord,
  type AutoReplyInput,
  type AutoReplyRecord,
  type DirectorySnapshot,
  type DirectoryStore,
  type DkimKeyRecord,
  type DnsRecord,
  type DnsRecordInput,
  type NewDkimKey,
  type DomainRecord,
  type ForwardRecord,
  type ForwardConditions,
  type OperatorRecord,
  type AccessPolicy,
  type TenantRecord,
} from '../../directory/index.js';
import { DirectoryFile, PATCH_COLUMNS, toAccount, toDkim, toDnsRecord, toOperator, toTenant, type AccountRow, type DkimRow, type DnsRecordRow, type TenantRow } from './directory-schema.js';
import { accountsNow, aliasesNow, autoRepliesNow, dnsRecordsNow, domainsNow, forwardsNow, operatorsNow, policiesNow, tenantsNow } from './directory-reads.js';


/**
 * The directory in SQLite (`directory.db`); shared by the service and CLI processes.
 * The file is opened on first use and again after a failed open, so a service whose
 * directory is locked or broken at start still starts (and answers 4xx until it loads).
 */
export class SqliteDirectoryStore extends DirectoryFile implements DirectoryStore {
  /** Runs a change in one transaction and bumps the version, so caches reload. */
  private change<T>(fn: () => T): T {
    return this.db.transaction(() => {
      const result = fn();
      this.db.prepare(`UPDATE meta SET v = v + 1 WHERE k = 'version'`).run();
      return result;
    })();
  }

  private requireDomain(name: string): void {
    if (!this.db.prepare('SELECT 1 FROM domains WHERE name = ?').get(name)) {
      throw new HikyakuError('ERR_DOMAIN_UNKNOWN', name);
    }
  }

  private requireFree(address: string): void {
    if (this.db.prepare('SELECT 1 FROM accounts WHERE address = ? UNION ALL SELECT 1 FROM aliases WHERE address = ?').get(address, address)) {
      throw new HikyakuError('ERR_ADDRESS_TAKEN', address);
    }
  }

  private accountRow(address: string): AccountRow {
    const row = this.db.prepare('SELECT * FROM accounts WHERE address = ?').get(address) as AccountRow | undefined;
    if (!row) throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', address);
    return row;
  }

  private tenantRow(name: string): TenantRow {
    const row = this.db.prepare('SELECT * FROM tenants WHERE name = ?').get(name) as TenantRow | undefined;
    if (!row) throw new HikyakuError('ERR_TENANT_UNKNOWN', name);
    return row;
  }

  async addTenant(name: string, displayName: string): Promise<TenantRecord> {
    return this.change(() => {
      const row = this.db
        .prepare('INSERT INTO tenants (name, display_name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING *')
        .get(name, displayName, Date.now()) as TenantRow | undefined;
      if (!row) throw new HikyakuError('ERR_TENANT_EXISTS', name);
      return toTenant(row);
    });
  }

  async listTenants(): Promise<TenantRecord[]> {
    return tenantsNow(this.db);
  }


  async setTenantSuspended(name: string, suspended: boolean): Promise<void> {
    this.change(() => {
      this.tenantRow(name);
      this.db.prepare('UPDATE tenants SET suspended = ? WHERE name = ?').run(suspended ? 1 : 0, name);
    });
  }

  async setDomainTenant(domain: string, tenant: string): Promise<void> {
    this.change(() => {
      this.requireDomain(domain);
      this.db.prepare('UPDATE domains SET tenant_id = ? WHERE name = ?').run(this.tenantRow(tenant).id, domain);
    });
  }

  async setDomainRetention(domain: string, days: number | null): Promise<void> {
    this.change(() => {
      this.requireDomain(domain);
      this.db.prepare('UPDATE domains SET retention_days = ? WHERE name = ?').run(days, domain);
    });
  }

  async addDomain(name: string, dkim?: NewDkimKey, tenant = DEFAULT_TENANT): Promise<DomainRecord> {
    return this.change(() => {
      const createdAt = Date.now();
      const r = this.db.prepare('INSERT INTO domains (name, created_at, tenant_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(name, createdAt, this.tenantRow(tenant).id);
      if (r.changes === 0) throw new HikyakuError('ERR_DOMAIN_EXISTS', name);
      if (dkim) this.insertDkimKey(name, dkim);
      return { name, tenant, createdAt, retentionDays: null };
    });
  }

  async addDkimKey(domain: string, key: NewDkimKey): Promise<DkimKeyRecord> {
    return this.change(() => {
      this.requireDomain(domain);
      return this.insertDkimKey(domain, key);
    });
  }

  private insertDkimKey(domain: string, key: NewDkimKey): DkimKeyRecord {
    if (this.db.prepare('SELECT 1 FROM dkim_keys WHERE domain = ? AND selector = ?').get(domain, key.selector)) {
      throw new HikyakuError('ERR_DKIM_SELECTOR_TAKEN', `${key.selector}._domainkey.${domain}`);
    }
    this.db.prepare('UPDATE dkim_keys SET active = 0 WHERE domain = ?').run(domain);
    const row = this.db
      .prepare('INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, active, created_at) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING *')
      .get(domain, key.selector, key.algorithm, key.privateKey, key.publicKey, Date.now()) as DkimRow;
    return toDkim(row);
  }

  async listDkimKeys(domain: string): Promise<DkimKeyRecord[]> {
    this.requireDomain(domain);
    return (this.db.prepare('SELECT * FROM dkim_keys WHERE domain = ? ORDER BY active DESC, created_at DESC').all(domain) as DkimRow[]).map(toDkim);
  }

  async addDnsRecord(domain: string, r: DnsRecordInput): Promise<DnsRecord> {
    return this.change(() => {
      this.requireDomain(domain);
      const row = this.db.prepare('INSERT INTO dns_records (domain, name, type, ttl, value) VALUES (?, ?, ?, ?, ?) RETURNING *').get(domain, r.name, r.type, r.ttl, r.value) as DnsRecordRow;
      return toDnsRecord(row);
    });
  }

  async updateDnsRecord(domain: string, id: number, r: DnsRecordInput): Promise<DnsRecord> {
    return this.change(() => {
      const row = this.db.prepare('UPDATE dns_records SET name = ?, type = ?, ttl = ?, value = ? WHERE domain = ? AND id = ? RETURNING *').get(r.name, r.type, r.ttl, r.value, domain, id) as DnsRecordRow | undefined;
      if (!row) throw new HikyakuError('ERR_DNS_RECORD_UNKNOWN', `${domain} #${id}`);
      return toDnsRecord(row);
    });
  }

  async removeDnsRecord(domain: string, id: number): Promise<void> {
    this.change(() => {
      if (this.db.prepare('DELETE FROM dns_records WHERE domain = ? AND id = ?').run(domain, id).changes === 0) throw new HikyakuError('ERR_DNS_RECORD_UNKNOWN', `${domain} #${id}`);
    });
  }

  async listDnsRecords(domain: string): Promise<DnsRecord[]> {
    this.requireDomain(domain);
    return dnsRecordsNow(this.db, domain);
  }

  async removeDomain(name: string, force: boolean): Promise<void> {
    this.change(() => {
      this.requireDomain(name);
      const { n } = this.db
        .prepare('SELECT (SELECT count(*) FROM accounts WHERE domain = ?) + (SELECT count(*) FROM aliases WHERE domain = ?) AS n')
        .get(name, name) as { n: number };
      if (n > 0 && !force) throw new HikyakuError('ERR_DOMAIN_NOT_EMPTY', `${name} has ${n} accounts and aliases`);
      this.db.prepare('DELETE FROM aliases WHERE domain = ?').run(name);
      this.db.prepare(`DELETE FROM policies WHERE scope = ? OR scope IN (SELECT 'account:' || address FROM accounts WHERE domain = ?)`).run(`domain:${name}`, name);
      this.db.prepare('DELETE FROM accounts WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM dkim_keys WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM dns_records WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM domains WHERE name = ?').run(name);
    });
  }

  async listDomains(): Promise<DomainRecord[]> {
    return domainsNow(this.db);
  }


  async addAccount(input: { address: string; passwordHash: string; quotaBytes: number } & AccountPatch): Promise<AccountRecord> {
    return this.change(() => {
      const domain = domainOf(input.address);
      this.requireDomain(domain);
      this.requireFree(input.address);
      this.db
        .prepare('INSERT INTO accounts (address, domain, password_hash, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(input.address, domain, input.passwordHash, input.quotaBytes, Date.now());
      return this.patch(input.address, input);
    });
  }

  async setPassword(address: string, passwordHash: string, mustChange = false): Promise<void> {
    this.change(() => {
      this.accountRow(address);
      this.db.prepare('UPDATE accounts SET password_hash = ?, must_change = ? WHERE address = ?').run(passwordHash, mustChange ? 1 : 0, address);
    });
  }

  async updateAccount(address: string, patch: AccountPatch): Promise<AccountRecord> {
    return this.change(() => {
      this.accountRow(address);
      return this.patch(address, patch);
    });
  }

  private patch(address: string, patch: AccountPatch): AccountRecord {
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof AccountPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      this.db.prepare(`UPDATE accounts SET ${column} = ? WHERE address = ?`).run(typeof value === 'boolean' ? Number(value) : value, address);
    }
    return toAccount(this.accountRow(address));
  }

  async setQuota(address: string, quotaBytes: number): Promise<void> {
    this.change(() => {
      this.accountRow(address);
      this.db.prepare('UPDATE accounts SET quota_bytes = ? WHERE address = ?').run(quotaBytes, address);
    });
  }

  async removeAccount(address: string): Promise<void> {
    this.change(() => {
      this.accountRow(address);
      this.db.prepare('DELETE FROM accounts WHERE address = ?').run(address);
      this.db.prepare('DELETE FROM policies WHERE scope = ?').run(`account:${address}`);
    });
  }

  async setPolicy(scope: string, policy: AccessPolicy | undefined): Promise<void> {
    this.change(() => {
      const [kind, name = ''] = scope.split(/:(.*)/s);
      if (kind === 'domain') this.requireDomain(name);
      else if (kind === 'account') this.accountRow(name);
      else throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', `no such policy scope: ${scope}`);
      if (policy) this.db.prepare('INSERT INTO policies (scope, policy) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET policy = excluded.policy').run(scope, JSON.stringify(policy));
      else this.db.prepare('DELETE FROM policies WHERE scope = ?').run(scope);
    });
  }


  async listAccounts(domain?: string): Promise<AccountRecord[]> {
    return accountsNow(this.db, domain);
  }


  async setAlias(address: string, targets: readonly string[]): Promise<AliasRecord> {
    return this.change(() => {
      const domain = domainOf(address);
      this.requireDomain(domain);
      if (this.db.prepare('SELECT 1 FROM accounts WHERE address = ?').get(address)) {
        throw new HikyakuError('ERR_ADDRESS_TAKEN', `${address} is an account`);
      }
      this.db
        .prepare('INSERT INTO aliases (address, domain, targets) VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET targets = excluded.targets')
        .run(address, domain, JSON.stringify(targets));
      return { address, domain, targets: [...targets] };
    });
  }

  async removeAlias(address: string): Promise<void> {
    this.change(() => {
      if (this.db.prepare('DELETE FROM aliases WHERE address = ?').run(address).changes === 0) {
        throw new HikyakuError('ERR_ALIAS_UNKNOWN', address);
      }
    });
  }

  async listAliases(domain?: string): Promise<AliasRecord[]> {
    return aliasesNow(this.db, domain);
  }


  async setForward(account: string, targets: readonly string[], keepCopy: boolean, enabled = true, conditions: ForwardConditions | null = null): Promise<ForwardRecord> {
    return this.change(() => {
      const row = this.accountRow(account);
      this.db
        .prepare(
          `INSERT INTO forwards (account_id, targets, keep_copy, enabled, conditions) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (account_id) DO UPDATE SET targets = excluded.targets, keep_copy = excluded.keep_copy, enabled = excluded.enabled, conditions = excluded.conditions`,
        )
        .run(row.id, JSON.stringify(targets), keepCopy ? 1 : 0, enabled ? 1 : 0, conditions ? JSON.stringify(conditions) : null);
      return { account, targets: [...targets], keepCopy, enabled, conditions };
    });
  }

  async setAutoReply(account: string, reply: AutoReplyInput): Promise<AutoReplyRecord> {
    return this.change(() => {
      const row = this.accountRow(account);
      this.db
        .prepare(
          `INSERT INTO autoreplies (account_id, enabled, subject, body, starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, subject = excluded.subject, body = excluded.body, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
        )
        .run(row.id, reply.enabled ? 1 : 0, reply.subject, reply.body, reply.startsAt, reply.endsAt);
      return { account, ...reply };
    });
  }

  async removeAutoReply(account: string): Promise<void> {
    this.change(() => {
      this.db.prepare('DELETE FROM autoreplies WHERE account_id = ?').run(this.accountRow(account).id);
    });
  }

  async listAutoReplies(domain?: string): Promise<AutoReplyRecord[]> {
    return autoRepliesNow(this.db, domain);
  }


  async removeForward(account: string): Promise<void> {
    this.change(() => {
      const row = this.accountRow(account);
      if (this.db.prepare('DELETE FROM forwards WHERE account_id = ?').run(row.id).changes === 0) {
        throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', `${account} has no forwarding`);
      }
    });
  }

  async listForwards(domain?: string): Promise<ForwardRecord[]> {
    return forwardsNow(this.db, domain);
  }


  async addOperator(login: string, passwordHash: string): Promise<OperatorRecord> {
    return this.change(() => {
      const row = this.db
        .prepare('INSERT INTO operators (login, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING *')
        .get(login, passwordHash, Date.now()) as Parameters<typeof toOperator>[0] | undefined;
      if (!row) throw new HikyakuError('ERR_OPERATOR_EXISTS', login);
      return toOperator(row);
    });
  }

  async setOperatorPassword(login: string, passwordHash: string): Promise<void> {
    this.change(() => {
      if (this.db.prepare('UPDATE operators SET password_hash = ? WHERE login = ?').run(passwordHash, login).changes === 0) throw new HikyakuError('ERR_OPERATOR_UNKNOWN', login);
    });
  }

  async removeOperator(login: string): Promise<void> {
    this.change(() => {
      if (this.db.prepare('DELETE FROM operators WHERE login = ?').run(login).changes === 0) throw new HikyakuError('ERR_OPERATOR_UNKNOWN', login);
    });
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return operatorsNow(this.db);
  }


  async snapshot(): Promise<DirectorySnapshot> {
    // One read transaction, so the parts belong to one version.
    return this.db.transaction(() => ({
      version: this.versionNow(),
      tenants: tenantsNow(this.db),
      operators: operatorsNow(this.db),
      domains: domainsNow(this.db),
      dkimKeys: (this.db.prepare('SELECT * FROM dkim_keys ORDER BY domain, active DESC, created_at DESC').all() as DkimRow[]).map(toDkim),
      dnsRecords: dnsRecordsNow(this.db),
      accounts: accountsNow(this.db),
      aliases: aliasesNow(this.db),
      forwards: forwardsNow(this.db),
      autoReplies: autoRepliesNow(this.db),
      policies: policiesNow(this.db),
    }))();
  }

  async version(): Promise<number> {
    return this.versionNow();
  }

  private versionNow(): number {
    return (this.db.prepare(`SELECT v FROM meta WHERE k = 'version'`).get() as { v: number }).v;
  }

}
