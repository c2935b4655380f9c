import { HikyakuError, domainOf } from '../../mail/index.js';
import type {
  AccountRecord,
  AliasRecord,
  DirectorySnapshot,
  DirectoryStore,
  DkimKeyRecord,
  NewDkimKey,
  DomainRecord,
  ForwardRecord,
} from '../../directory/index.js';
import { openDb, type Db } from './db.js';

const MIGRATIONS = [
  `CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
   INSERT INTO meta VALUES ('version', 0);
   CREATE TABLE domains (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
   CREATE TABLE accounts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     address TEXT NOT NULL UNIQUE,
     domain TEXT NOT NULL REFERENCES domains(name),
     password_hash TEXT NOT NULL,
     quota_bytes INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL);
   CREATE INDEX accounts_domain ON accounts(domain);
   CREATE TABLE aliases (
     address TEXT PRIMARY KEY,
     domain TEXT NOT NULL REFERENCES domains(name),
     targets TEXT NOT NULL);
   CREATE INDEX aliases_domain ON aliases(domain);
   CREATE TABLE forwards (
     account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
     targets TEXT NOT NULL,
     keep_copy INTEGER NOT NULL);`,
  `CREATE TABLE dkim_keys (
     domain TEXT NOT NULL REFERENCES domains(name),
     selector TEXT NOT NULL,
     algorithm TEXT NOT NULL,
     private_key TEXT NOT NULL,
     public_key TEXT NOT NULL,
     active INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (domain, selector));`,
];

interface DkimRow {
  domain: string;
  selector: string;
  algorithm: DkimKeyRecord['algorithm'];
  private_key: string;
  public_key: string;
  active: number;
  created_at: number;
}

const toDkim = (r: DkimRow): DkimKeyRecord => ({
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm,
  privateKey: r.private_key,
  publicKey: r.public_key,
  active: r.active === 1,
  createdAt: r.created_at,
});

interface AccountRow {
  id: number;
  address: string;
  domain: string;
  password_hash: string;
  quota_bytes: number;
  created_at: number;
}

const toAccount = (r: AccountRow): AccountRecord => ({
  id: r.id,
  address: r.address,
  domain: r.domain,
  passwordHash: r.password_hash,
  quotaBytes: r.quota_bytes,
  createdAt: r.created_at,
});

const toAlias = (r: { address: string; domain: string; targets: string }): AliasRecord => ({
  address: r.address,
  domain: r.domain,
  targets: JSON.parse(r.targets) as string[],
});

const toForward = (r: { address: string; targets: string; keep_copy: number }): ForwardRecord => ({
  account: r.address,
  targets: JSON.parse(r.targets) as string[],
  keepCopy: r.keep_copy === 1,
});

/**
 * The directory in SQLite (`directory.db`); shared by the service and CLI processes.
 * The file is opened on first use and again after a failed open, so a service whose
 * directory is locked or broken at start still starts (and answers 4xx until it loads).
 */
export class SqliteDirectoryStore implements DirectoryStore {
  private opened: Db | undefined;

  /** `busyTimeoutMs`: how long a call waits for another process's lock (it blocks its thread). */
  constructor(
    private readonly path: string,
    private readonly busyTimeoutMs = 5000,
  ) {}

  private get db(): Db {
    return (this.opened ??= openDb(this.path, MIGRATIONS, this.busyTimeoutMs));
  }

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

  async addDomain(name: string, dkim?: NewDkimKey): Promise<DomainRecord> {
    return this.change(() => {
      const createdAt = Date.now();
      const r = this.db.prepare('INSERT INTO domains (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(name, createdAt);
      if (r.changes === 0) throw new HikyakuError('ERR_DOMAIN_EXISTS', name);
      if (dkim) this.insertDkimKey(name, dkim);
      return { name, createdAt };
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

  async removeDomain(name: string, force: boolean): Promise<void> {
    this.change(() => {
      this.requireDomain(name);
      const { n } = this.db
        .prepare('SELECT (SELECT count(*) FROM accounts WHERE domain = ?) + (SELECT count(*) FROM aliases WHERE domain = ?) AS n')
        .get(name, name) as { n: number };
      if (n > 0 && !force) throw new HikyakuError('ERR_DOMAIN_NOT_EMPTY', `${name} has ${n} accounts and aliases`);
      this.db.prepare('DELETE FROM aliases WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM accounts WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM dkim_keys WHERE domain = ?').run(name);
      this.db.prepare('DELETE FROM domains WHERE name = ?').run(name);
    });
  }

  async listDomains(): Promise<DomainRecord[]> {
    return this.domainsNow();
  }

  private domainsNow(): DomainRecord[] {
    return (this.db.prepare('SELECT name, created_at FROM domains ORDER BY name').all() as { name: string; created_at: number }[]).map((r) => ({
      name: r.name,
      createdAt: r.created_at,
    }));
  }

  async addAccount(input: { address: string; passwordHash: string; quotaBytes: number }): Promise<AccountRecord> {
    return this.change(() => {
      const domain = domainOf(input.address);
      this.requireDomain(domain);
      this.requireFree(input.address);
      const row = this.db
        .prepare('INSERT INTO accounts (address, domain, password_hash, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *')
        .get(input.address, domain, input.passwordHash, input.quotaBytes, Date.now()) as AccountRow;
      return toAccount(row);
    });
  }

  async setPassword(address: string, passwordHash: string): Promise<void> {
    this.change(() => {
      this.accountRow(address);
      this.db.prepare('UPDATE accounts SET password_hash = ? WHERE address = ?').run(passwordHash, address);
    });
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
    });
  }

  async listAccounts(domain?: string): Promise<AccountRecord[]> {
    return this.accountsNow(domain);
  }

  private accountsNow(domain?: string): AccountRecord[] {
    const rows = domain
      ? this.db.prepare('SELECT * FROM accounts WHERE domain = ? ORDER BY address').all(domain)
      : this.db.prepare('SELECT * FROM accounts ORDER BY address').all();
    return (rows as AccountRow[]).map(toAccount);
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
    return this.aliasesNow(domain);
  }

  private aliasesNow(domain?: string): AliasRecord[] {
    const rows = domain
      ? this.db.prepare('SELECT * FROM aliases WHERE domain = ? ORDER BY address').all(domain)
      : this.db.prepare('SELECT * FROM aliases ORDER BY address').all();
    return (rows as { address: string; domain: string; targets: string }[]).map(toAlias);
  }

  async setForward(account: string, targets: readonly string[], keepCopy: boolean): Promise<ForwardRecord> {
    return this.change(() => {
      const row = this.accountRow(account);
      this.db
        .prepare('INSERT INTO forwards (account_id, targets, keep_copy) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET targets = excluded.targets, keep_copy = excluded.keep_copy')
        .run(row.id, JSON.stringify(targets), keepCopy ? 1 : 0);
      return { account, targets: [...targets], keepCopy };
    });
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
    return this.forwardsNow(domain);
  }

  private forwardsNow(domain?: string): ForwardRecord[] {
    const sql = 'SELECT a.address, f.targets, f.keep_copy FROM forwards f JOIN accounts a ON a.id = f.account_id';
    const rows = domain ? this.db.prepare(`${sql} WHERE a.domain = ? ORDER BY a.address`).all(domain) : this.db.prepare(`${sql} ORDER BY a.address`).all();
    return (rows as { address: string; targets: string; keep_copy: number }[]).map(toForward);
  }

  async snapshot(): Promise<DirectorySnapshot> {
    // One read transaction, so the parts belong to one version.
    return this.db.transaction(() => ({
      version: this.versionNow(),
      domains: this.domainsNow(),
      dkimKeys: (this.db.prepare('SELECT * FROM dkim_keys WHERE active = 1').all() as DkimRow[]).map(toDkim),
      accounts: this.accountsNow(),
      aliases: this.aliasesNow(),
      forwards: this.forwardsNow(),
    }))();
  }

  async version(): Promise<number> {
    return this.versionNow();
  }

  private versionNow(): number {
    return (this.db.prepare(`SELECT v FROM meta WHERE k = 'version'`).get() as { v: number }).v;
  }

  async close(): Promise<void> {
    this.opened?.close();
    this.opened = undefined;
  }
}
