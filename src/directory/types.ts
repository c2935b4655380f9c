/** A hosted domain. */
export interface DomainRecord {
  readonly name: string;
  readonly createdAt: number;
}

/** An account: a person's mailbox. `address` is the lookup key (see mail/addressKey). */
export interface AccountRecord {
  readonly id: number;
  readonly address: string;
  readonly domain: string;
  readonly passwordHash: string;
  /** Mailbox quota in bytes; 0 means unlimited. */
  readonly quotaBytes: number;
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
}

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

export interface DirectorySnapshot {
  readonly version: number;
  readonly domains: readonly DomainRecord[];
  /** The active DKIM key of each domain that has one. */
  readonly dkimKeys: readonly DkimKeyRecord[];
  readonly accounts: readonly AccountRecord[];
  readonly aliases: readonly AliasRecord[];
  readonly forwards: readonly ForwardRecord[];
}

/**
 * Persistent directory of domains, accounts, aliases and forwards.
 *
 * Contract for every backend:
 * - Addresses arrive normalized (mail/addressKey); the store compares them exactly.
 * - An address is an account or an alias, never both (ERR_ADDRESS_TAKEN).
 * - Accounts, aliases and forwards belong to a hosted domain (ERR_DOMAIN_UNKNOWN).
 * - Every committed change increases `version()`, so caches in other processes see it.
 * - Errors are HikyakuError with a directory code; nothing else escapes.
 */
export interface DirectoryStore {
  /** Adds the domain and, in the same transaction, its first DKIM key. */
  addDomain(name: string, dkim?: NewDkimKey): Promise<DomainRecord>;
  /** Refuses (ERR_DOMAIN_NOT_EMPTY) while accounts or aliases remain, unless `force`. */
  removeDomain(name: string, force: boolean): Promise<void>;
  listDomains(): Promise<DomainRecord[]>;

  addAccount(input: { address: string; passwordHash: string; quotaBytes: number }): Promise<AccountRecord>;
  setPassword(address: string, passwordHash: string): Promise<void>;
  setQuota(address: string, quotaBytes: number): Promise<void>;
  /** Removes the account and its forward. Its stored mail is not touched. */
  removeAccount(address: string): Promise<void>;
  listAccounts(domain?: string): Promise<AccountRecord[]>;

  /** Creates the alias, or replaces its targets if it exists. */
  setAlias(address: string, targets: readonly string[]): Promise<AliasRecord>;
  removeAlias(address: string): Promise<void>;
  listAliases(domain?: string): Promise<AliasRecord[]>;

  setForward(account: string, targets: readonly string[], keepCopy: boolean): Promise<ForwardRecord>;
  removeForward(account: string): Promise<void>;
  listForwards(domain?: string): Promise<ForwardRecord[]>;

  /** Adds a key and makes it the one that signs (rotation); the old ones are kept. ERR_DKIM_SELECTOR_TAKEN if the selector exists. */
  addDkimKey(domain: string, key: NewDkimKey): Promise<DkimKeyRecord>;
  /** Every key of the domain, newest first. */
  listDkimKeys(domain: string): Promise<DkimKeyRecord[]>;

  /** The whole directory at one version, for caches. */
  snapshot(): Promise<DirectorySnapshot>;
  /** The current change counter; cheap. */
  version(): Promise<number>;
  close(): Promise<void>;
}
