import { sql, type Transaction } from 'kysely';
import { HikyakuError, domainOf } from '../../mail/index.js';
import {
  DEFAULT_TENANT,
  type AccessPolicy,
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
  type DomainRecord,
  type ForwardConditions,
  type ForwardRecord,
  type NewDkimKey,
  type OperatorRecord,
  type TenantRecord,
} from '../../directory/index.js';
import { PATCH_COLUMNS, toAccount, toDkim, toDnsRecord, toOperator, toTenant, type AccountRow, type DkimRow, type DnsRecordRow, type TenantRow } from '../directory-rows.js';
import { DIRECTORY_MIGRATIONS } from './directory-schema.js';
import { accountsIn, aliasesIn, autoRepliesIn, dnsRecordsIn, domainsIn, forwardsIn, operatorsIn, policiesIn, tenantsIn, type Reader } from './directory-reads.js';
import { channelOf, listen, PgStore, type PgOptions } from './pool.js';

type Tx = Transaction<any>;

const one = async <T>(q: { execute(db: Reader): Promise<{ rows: T[] }> }, db: Reader): Promise<T | undefined> => (await q.execute(db)).rows[0];

/**
 * The directory on PostgreSQL, shared by every node. Changes are serialized by a lock on
 * the version row, bump the version and NOTIFY it at commit, so every node's cache reloads
 * within moments; `follow` is how a cache hears it.
 */
export class PgDirectoryStore extends PgStore implements DirectoryStore {
  private readonly channel: string;

  constructor(url: string, options: PgOptions = {}) {
    super(url, options, 'directory', DIRECTORY_MIGRATIONS);
    this.channel = channelOf('directory', this.schema);
  }

  follow(onChange: () => void): () => Promise<void> {
    return listen(this.url, this.channel, onChange);
  }

  /** Runs a change in one transaction, serialized with every other, and announces the new version. */
  private async change<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const db = await this.conn();
    return db.transaction().execute(async (tx) => {
      await sql`SELECT v FROM dir_meta WHERE k = 'version' FOR UPDATE`.execute(tx);
      const result = await fn(tx);
      await sql`WITH v AS (UPDATE dir_meta SET v = v + 1 WHERE k = 'version' RETURNING v) SELECT pg_notify(${this.channel}, v::text) FROM v`.execute(tx);
      return result;
    });
  }

  private async requireDomain(tx: Reader, name: string): Promise<void> {
    if (!(await one(sql`SELECT 1 FROM domains WHERE name = ${name}`, tx))) throw new HikyakuError('ERR_DOMAIN_UNKNOWN', name);
  }

  private async requireFree(tx: Tx, address: string): Promise<void> {
    if (await one(sql`SELECT 1 FROM accounts WHERE address = ${address} UNION ALL SELECT 1 FROM aliases WHERE address = ${address}`, tx)) {
      throw new HikyakuError('ERR_ADDRESS_TAKEN', address);
    }
  }

  private async accountRow(tx: Reader, address: string): Promise<AccountRow> {
    const row = await one(sql<AccountRow>`SELECT * FROM accounts WHERE address = ${address}`, tx);
    if (!row) throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', address);
    return row;
  }

  private async tenantRow(tx: Tx, name: string): Promise<TenantRow> {
    const row = await one(sql<TenantRow>`SELECT * FROM tenants WHERE name = ${name}`, tx);
    if (!row) throw new HikyakuError('ERR_TENANT_UNKNOWN', name);
    return row;
  }

  async addTenant(name: string, displayName: string): Promise<TenantRecord> {
    return this.change(async (tx) => {
      const row = await one(sql<TenantRow>`INSERT INTO tenants (name, display_name, created_at) VALUES (${name}, ${displayName}, ${Date.now()}) ON CONFLICT DO NOTHING RETURNING *`, tx);
      if (!row) throw new HikyakuError('ERR_TENANT_EXISTS', name);
      return toTenant(row);
    });
  }

  async listTenants(): Promise<TenantRecord[]> {
    return tenantsIn(await this.conn());
  }

  async setTenantSuspended(name: string, suspended: boolean): Promise<void> {
    await this.change(async (tx) => {
      await this.tenantRow(tx, name);
      await sql`UPDATE tenants SET suspended = ${suspended ? 1 : 0} WHERE name = ${name}`.execute(tx);
    });
  }

  async setDomainTenant(domain: string, tenant: string): Promise<void> {
    await this.change(async (tx) => {
      await this.requireDomain(tx, domain);
      await sql`UPDATE domains SET tenant_id = ${(await this.tenantRow(tx, tenant)).id} WHERE name = ${domain}`.execute(tx);
    });
  }

  async setDomainRetention(domain: string, days: number | null): Promise<void> {
    await this.change(async (tx) => {
      await this.requireDomain(tx, domain);
      await sql`UPDATE domains SET retention_days = ${days} WHERE name = ${domain}`.execute(tx);
    });
  }

  async addDomain(name: string, dkim?: NewDkimKey, tenant = DEFAULT_TENANT): Promise<DomainRecord> {
    return this.change(async (tx) => {
      const createdAt = Date.now();
      const tenantId = (await this.tenantRow(tx, tenant)).id;
      const added = await one(sql`INSERT INTO domains (name, created_at, tenant_id) VALUES (${name}, ${createdAt}, ${tenantId}) ON CONFLICT DO NOTHING RETURNING name`, tx);
      if (!added) throw new HikyakuError('ERR_DOMAIN_EXISTS', name);
      if (dkim) await this.insertDkimKey(tx, name, dkim);
      return { name, tenant, createdAt, retentionDays: null };
    });
  }

  async addDkimKey(domain: string, key: NewDkimKey): Promise<DkimKeyRecord> {
    return this.change(async (tx) => {
      await this.requireDomain(tx, domain);
      return this.insertDkimKey(tx, domain, key);
    });
  }

  private async insertDkimKey(tx: Tx, domain: string, key: NewDkimKey): Promise<DkimKeyRecord> {
    if (await one(sql`SELECT 1 FROM dkim_keys WHERE domain = ${domain} AND selector = ${key.selector}`, tx)) {
      throw new HikyakuError('ERR_DKIM_SELECTOR_TAKEN', `${key.selector}._domainkey.${domain}`);
    }
    await sql`UPDATE dkim_keys SET active = 0 WHERE domain = ${domain}`.execute(tx);
    const row = await one(
      sql<DkimRow>`INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, active, created_at)
        VALUES (${domain}, ${key.selector}, ${key.algorithm}, ${key.privateKey}, ${key.publicKey}, 1, ${Date.now()}) RETURNING *`,
      tx,
    );
    return toDkim(row!);
  }

  async listDkimKeys(domain: string): Promise<DkimKeyRecord[]> {
    const db = await this.conn();
    await this.requireDomain(db, domain);
    return (await sql<DkimRow>`SELECT * FROM dkim_keys WHERE domain = ${domain} ORDER BY active DESC, created_at DESC`.execute(db)).rows.map(toDkim);
  }

  async addDnsRecord(domain: string, r: DnsRecordInput): Promise<DnsRecord> {
    return this.change(async (tx) => {
      await this.requireDomain(tx, domain);
      return toDnsRecord((await one(sql<DnsRecordRow>`INSERT INTO dns_records (domain, name, type, ttl, value) VALUES (${domain}, ${r.name}, ${r.type}, ${r.ttl}, ${r.value}) RETURNING *`, tx))!);
    });
  }

  async updateDnsRecord(domain: string, id: number, r: DnsRecordInput): Promise<DnsRecord> {
    return this.change(async (tx) => {
      const row = await one(sql<DnsRecordRow>`UPDATE dns_records SET name = ${r.name}, type = ${r.type}, ttl = ${r.ttl}, value = ${r.value} WHERE domain = ${domain} AND id = ${id} RETURNING *`, tx);
      if (!row) throw new HikyakuError('ERR_DNS_RECORD_UNKNOWN', `${domain} #${id}`);
      return toDnsRecord(row);
    });
  }

  async removeDnsRecord(domain: string, id: number): Promise<void> {
    await this.change(async (tx) => {
      const r = await sql`DELETE FROM dns_records WHERE domain = ${domain} AND id = ${id}`.execute(tx);
      if (Number(r.numAffectedRows ?? 0) === 0) throw new HikyakuError('ERR_DNS_RECORD_UNKNOWN', `${domain} #${id}`);
    });
  }

  async listDnsRecords(domain: string): Promise<DnsRecord[]> {
    const db = await this.conn();
    await this.requireDomain(db, domain);
    return dnsRecordsIn(db, domain);
  }

  async removeDomain(name: string, force: boolean): Promise<void> {
    await this.change(async (tx) => {
      await this.requireDomain(tx, name);
      const { n } = (await one(sql<{ n: number }>`SELECT (SELECT count(*) FROM accounts WHERE domain = ${name}) + (SELECT count(*) FROM aliases WHERE domain = ${name}) AS n`, tx))!;
      if (n > 0 && !force) throw new HikyakuError('ERR_DOMAIN_NOT_EMPTY', `${name} has ${n} accounts and aliases`);
      await sql`DELETE FROM aliases WHERE domain = ${name}`.execute(tx);
      await sql`DELETE FROM policies WHERE scope = ${`domain:${name}`} OR scope IN (SELECT 'account:' || address FROM accounts WHERE domain = ${name})`.execute(tx);
      await sql`DELETE FROM accounts WHERE domain = ${name}`.execute(tx);
      await sql`DELETE FROM dkim_keys WHERE domain = ${name}`.execute(tx);
      await sql`DELETE FROM dns_records WHERE domain = ${name}`.execute(tx);
      await sql`DELETE FROM domains WHERE name = ${name}`.execute(tx);
    });
  }

  async listDomains(): Promise<DomainRecord[]> {
    return domainsIn(await this.conn());
  }

  async addAccount(input: { address: string; passwordHash: string; quotaBytes: number } & AccountPatch): Promise<AccountRecord> {
    return this.change(async (tx) => {
      const domain = domainOf(input.address);
      await this.requireDomain(tx, domain);
      await this.requireFree(tx, input.address);
      await sql`INSERT INTO accounts (address, domain, password_hash, quota_bytes, created_at) VALUES (${input.address}, ${domain}, ${input.passwordHash}, ${input.quotaBytes}, ${Date.now()})`.execute(tx);
      return this.patch(tx, input.address, input);
    });
  }

  async setPassword(address: string, passwordHash: string, mustChange = false): Promise<void> {
    await this.change(async (tx) => {
      await this.accountRow(tx, address);
      await sql`UPDATE accounts SET password_hash = ${passwordHash}, must_change = ${mustChange ? 1 : 0} WHERE address = ${address}`.execute(tx);
    });
  }

  async updateAccount(address: string, patch: AccountPatch): Promise<AccountRecord> {
    return this.change(async (tx) => {
      await this.accountRow(tx, address);
      return this.patch(tx, address, patch);
    });
  }

  private async patch(tx: Tx, address: string, patch: AccountPatch): Promise<AccountRecord> {
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof AccountPatch, string][]) {
      const value = patch[field];
      if (value === undefined) continue;
      await sql`UPDATE accounts SET ${sql.ref(column)} = ${typeof value === 'boolean' ? Number(value) : value} WHERE address = ${address}`.execute(tx);
    }
    return toAccount(await this.accountRow(tx, address));
  }

  async setQuota(address: string, quotaBytes: number): Promise<void> {
    await this.change(async (tx) => {
      await this.accountRow(tx, address);
      await sql`UPDATE accounts SET quota_bytes = ${quotaBytes} WHERE address = ${address}`.execute(tx);
    });
  }

  async removeAccount(address: string): Promise<void> {
    await this.change(async (tx) => {
      await this.accountRow(tx, address);
      await sql`DELETE FROM accounts WHERE address = ${address}`.execute(tx);
      await sql`DELETE FROM policies WHERE scope = ${`account:${address}`}`.execute(tx);
    });
  }

  async setPolicy(scope: string, policy: AccessPolicy | undefined): Promise<void> {
    await this.change(async (tx) => {
      const [kind, name = ''] = scope.split(/:(.*)/s);
      if (kind === 'domain') await this.requireDomain(tx, name);
      else if (kind === 'account') await this.accountRow(tx, name);
      else throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', `no such policy scope: ${scope}`);
      if (policy) await sql`INSERT INTO policies (scope, policy) VALUES (${scope}, ${JSON.stringify(policy)}) ON CONFLICT (scope) DO UPDATE SET policy = excluded.policy`.execute(tx);
      else await sql`DELETE FROM policies WHERE scope = ${scope}`.execute(tx);
    });
  }

  async listAccounts(domain?: string): Promise<AccountRecord[]> {
    return accountsIn(await this.conn(), domain);
  }

  async setAlias(address: string, targets: readonly string[]): Promise<AliasRecord> {
    return this.change(async (tx) => {
      const domain = domainOf(address);
      await this.requireDomain(tx, domain);
      if (await one(sql`SELECT 1 FROM accounts WHERE address = ${address}`, tx)) throw new HikyakuError('ERR_ADDRESS_TAKEN', `${address} is an account`);
      await sql`INSERT INTO aliases (address, domain, targets) VALUES (${address}, ${domain}, ${JSON.stringify(targets)}) ON CONFLICT (address) DO UPDATE SET targets = excluded.targets`.execute(tx);
      return { address, domain, targets: [...targets] };
    });
  }

  async removeAlias(address: string): Promise<void> {
    await this.change(async (tx) => {
      if (!(await one(sql`DELETE FROM aliases WHERE address = ${address} RETURNING address`, tx))) throw new HikyakuError('ERR_ALIAS_UNKNOWN', address);
    });
  }

  async listAliases(domain?: string): Promise<AliasRecord[]> {
    return aliasesIn(await this.conn(), domain);
  }

  async setForward(account: string, targets: readonly string[], keepCopy: boolean, enabled = true, conditions: ForwardConditions | null = null): Promise<ForwardRecord> {
    return this.change(async (tx) => {
      const row = await this.accountRow(tx, account);
      await sql`INSERT INTO forwards (account_id, targets, keep_copy, enabled, conditions)
        VALUES (${row.id}, ${JSON.stringify(targets)}, ${keepCopy ? 1 : 0}, ${enabled ? 1 : 0}, ${conditions ? JSON.stringify(conditions) : null})
        ON CONFLICT (account_id) DO UPDATE SET targets = excluded.targets, keep_copy = excluded.keep_copy, enabled = excluded.enabled, conditions = excluded.conditions`.execute(tx);
      return { account, targets: [...targets], keepCopy, enabled, conditions };
    });
  }

  async removeForward(account: string): Promise<void> {
    await this.change(async (tx) => {
      const row = await this.accountRow(tx, account);
      if (!(await one(sql`DELETE FROM forwards WHERE account_id = ${row.id} RETURNING account_id`, tx))) throw new HikyakuError('ERR_ACCOUNT_UNKNOWN', `${account} has no forwarding`);
    });
  }

  async listForwards(domain?: string): Promise<ForwardRecord[]> {
    return forwardsIn(await this.conn(), domain);
  }

  async setAutoReply(account: string, reply: AutoReplyInput): Promise<AutoReplyRecord> {
    return this.change(async (tx) => {
      const row = await this.accountRow(tx, account);
      await sql`INSERT INTO autoreplies (account_id, enabled, subject, body, starts_at, ends_at)
        VALUES (${row.id}, ${reply.enabled ? 1 : 0}, ${reply.subject}, ${reply.body}, ${reply.startsAt}, ${reply.endsAt})
        ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, subject = excluded.subject, body = excluded.body, starts_at = excluded.starts_at, ends_at = excluded.ends_at`.execute(tx);
      return { account, ...reply };
    });
  }

  async removeAutoReply(account: string): Promise<void> {
    await this.change(async (tx) => {
      await sql`DELETE FROM autoreplies WHERE account_id = ${(await this.accountRow(tx, account)).id}`.execute(tx);
    });
  }

  async listAutoReplies(domain?: string): Promise<AutoReplyRecord[]> {
    return autoRepliesIn(await this.conn(), domain);
  }

  async addOperator(login: string, passwordHash: string): Promise<OperatorRecord> {
    return this.change(async (tx) => {
      const row = await one(sql<Parameters<typeof toOperator>[0]>`INSERT INTO operators (login, password_hash, created_at) VALUES (${login}, ${passwordHash}, ${Date.now()}) ON CONFLICT DO NOTHING RETURNING *`, tx);
      if (!row) throw new HikyakuError('ERR_OPERATOR_EXISTS', login);
      return toOperator(row);
    });
  }

  async setOperatorPassword(login: string, passwordHash: string): Promise<void> {
    await this.change(async (tx) => {
      if (!(await one(sql`UPDATE operators SET password_hash = ${passwordHash} WHERE login = ${login} RETURNING login`, tx))) throw new HikyakuError('ERR_OPERATOR_UNKNOWN', login);
    });
  }

  async removeOperator(login: string): Promise<void> {
    await this.change(async (tx) => {
      if (!(await one(sql`DELETE FROM operators WHERE login = ${login} RETURNING login`, tx))) throw new HikyakuError('ERR_OPERATOR_UNKNOWN', login);
    });
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return operatorsIn(await this.conn());
  }

  async snapshot(): Promise<DirectorySnapshot> {
    const db = await this.conn();
    // One repeatable-read transaction, so the parts belong to one version.
    return db.transaction().setIsolationLevel('repeatable read').execute(async (tx) => ({
      version: (await one(sql<{ v: number }>`SELECT v FROM dir_meta WHERE k = 'version'`, tx))!.v,
      tenants: await tenantsIn(tx),
      operators: await operatorsIn(tx),
      domains: await domainsIn(tx),
      dkimKeys: (await sql<DkimRow>`SELECT * FROM dkim_keys ORDER BY domain, active DESC, created_at DESC`.execute(tx)).rows.map(toDkim),
      dnsRecords: await dnsRecordsIn(tx),
      accounts: await accountsIn(tx),
      aliases: await aliasesIn(tx),
      forwards: await forwardsIn(tx),
      autoReplies: await autoRepliesIn(tx),
      policies: await policiesIn(tx),
    }));
  }

  async version(): Promise<number> {
    return (await one(sql<{ v: number }>`SELECT v FROM dir_meta WHERE k = 'version'`, await this.conn()))!.v;
  }
}
