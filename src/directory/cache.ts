import type { Logger } from '../observability/index.js';
import { domainOf } from '../mail/index.js';
import { expandRecipient, isKnownRecipient, type DirectoryIndex, type Expansion } from './expand.js';
import { OPEN_POLICY, type AccessPolicy } from './types.js';
import type { AccountRecord, AutoReplyRecord, ForwardRecord, DirectorySnapshot, DirectoryStore, DkimKeyRecord, DnsRecord, DomainRecord, OperatorRecord, TenantRecord } from './types.js';

/** What the SMTP and delivery paths ask of the directory; answered from memory. */
export interface RecipientDirectory {
  /**
   * False until the directory has been read once. Until then nothing is known: callers
   * answer temporarily (451, [SYS/TEMP]) and never permanently (a 5xx would bounce real mail).
   */
  readonly loaded: boolean;
  isHostedDomain(domain: string): boolean;
  isKnownRecipient(address: string): boolean;
  /** Where mail for `address` goes; `localOnly` follows no target outside, `follows` picks conditional forwards (see expandRecipient). */
  expand(address: string, localOnly?: boolean, follows?: (f: ForwardRecord) => boolean): Expansion;
  /** True when some forward has conditions: delivery then reads each message's header to decide. */
  readonly hasConditionalForwards: boolean;
  /** The address a bare `RCPT TO:<postmaster>` stands for (RFC 5321 §4.5.1), if any domain is hosted. */
  postmaster(): string | undefined;
  account(address: string): AccountRecord | undefined;
  /** True if `account` may send as `address`: its own address, or an alias that delivers to it. */
  maySendAs(account: string, address: string): boolean;
  /** The key that signs the domain's outgoing mail, if it has one. */
  dkimKey(domain: string): DkimKeyRecord | undefined;
  /** The account's automatic reply, if it has one (enabled or not). */
  autoReply(account: string): AutoReplyRecord | undefined;
  /** Reloads from the store now if it changed; resolves when done (or when it failed). */
  refresh(): Promise<void>;
}

/** What logins and the portal ask of the directory; answered from memory too. */
export interface LoginDirectory {
  readonly loaded: boolean;
  account(address: string): AccountRecord | undefined;
  operator(login: string): OperatorRecord | undefined;
  /** The tenant that owns the domain, if the domain is hosted. */
  tenantOf(domain: string): TenantRecord | undefined;
  tenant(name: string): TenantRecord | undefined;
  /** Hosted domains, sorted by name; only the tenant's when one is named. */
  domains(tenant?: string): DomainRecord[];
  /** The domain's accounts (from memory; for jobs that walk them). */
  accountsIn(domain: string): AccountRecord[];
  /** What the account may do: its own policy, else its domain's, else everything. */
  policyFor(address: string): AccessPolicy;
  /** The policy set on `domain:<name>` or `account:<address>` itself, if any. */
  policyOf(scope: string): AccessPolicy | undefined;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

interface CacheIndex extends DirectoryIndex {
  readonly dkim: ReadonlyMap<string, DkimKeyRecord>;
  readonly allDkim: ReadonlyMap<string, readonly DkimKeyRecord[]>;
  readonly dnsRecords: ReadonlyMap<string, readonly DnsRecord[]>;
  readonly domainRecords: ReadonlyMap<string, DomainRecord>;
  readonly tenants: ReadonlyMap<string, TenantRecord>;
  readonly operators: ReadonlyMap<string, OperatorRecord>;
  readonly autoReplies: ReadonlyMap<string, AutoReplyRecord>;
  readonly policies: ReadonlyMap<string, AccessPolicy>;
  readonly conditional: boolean;
  /** The oldest hosted domain: the server's own postmaster is postmaster@ it. */
  readonly firstDomain: string | undefined;
}

function indexOf(snapshot: DirectorySnapshot, postmasterMailbox: string): CacheIndex {
  // One pass over the accounts, not one per domain: a provider has thousands of each.
  const firstAccount = new Map<string, AccountRecord>();
  for (const a of snapshot.accounts) {
    const seen = firstAccount.get(a.domain);
    if (!seen || a.id < seen.id) firstAccount.set(a.domain, a);
  }
  const postmaster = new Map<string, string[]>();
  for (const d of snapshot.domains) {
    const target = postmasterMailbox || firstAccount.get(d.name)?.address;
    if (target) postmaster.set(d.name, [target]);
  }
  return {
    postmaster,
    firstDomain: [...snapshot.domains].sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))[0]?.name,
    dkim: new Map(snapshot.dkimKeys.filter((k) => k.active).map((k) => [k.domain, k])),
    allDkim: groupBy(snapshot.dkimKeys, (k) => k.domain),
    dnsRecords: groupBy(snapshot.dnsRecords, (r) => r.domain),
    domainRecords: new Map(snapshot.domains.map((d) => [d.name, d])),
    tenants: new Map(snapshot.tenants.map((t) => [t.name, t])),
    operators: new Map(snapshot.operators.map((o) => [o.login, o])),
    domains: new Set(snapshot.domains.map((d) => d.name)),
    accounts: new Map(snapshot.accounts.map((a) => [a.address, a])),
    aliases: new Map(snapshot.aliases.map((a) => [a.address, a])),
    // A forward that is off delivers like none (its targets wait in the store).
    forwards: new Map(snapshot.forwards.filter((f) => f.enabled).map((f) => [f.account, f])),
    autoReplies: new Map(snapshot.autoReplies.map((r) => [r.account, r])),
    policies: new Map(snapshot.policies.map((p) => [p.scope, p.policy])),
    conditional: snapshot.forwards.some((f) => f.enabled && f.conditions !== null),
  };
}

// While the store fails, reloads back off up to this interval.
const MAX_RETRY_MS = 5000;

/**
 * An in-memory copy of the directory, refreshed when the store's version changes.
 * It keeps serving its last good copy when the store is slow or failing (principle 1):
 * recipient checks at RCPT never wait on storage.
 */
export class DirectoryCache implements RecipientDirectory, LoginDirectory {
  private index: CacheIndex = indexOf({ version: -1, tenants: [], operators: [], domains: [], dkimKeys: [], dnsRecords: [], accounts: [], aliases: [], forwards: [], autoReplies: [], policies: [] }, '');
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private unfollow: (() => Promise<void>) | undefined;
  private heardPending = false;
  private chain: Promise<void> = Promise.resolve();
  private loading = false;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly store: DirectoryStore,
    private readonly refreshMs: number,
    private readonly log: Logger,
    /** Where postmaster@ every domain goes when it has no such address; '' for each domain's first account. */
    private readonly postmasterMailbox = '',
  ) {}

  get loaded(): boolean {
    return this.version >= 0;
  }

  /** False while the store fails to answer the cache's polls (it then serves its last copy). */
  get storeAnswering(): boolean {
    return this.failures === 0;
  }

  /**
   * Tries to load the directory, then follows changes. A store that cannot be read does not
   * stop the start: the cache tries again with backoff and reports `loaded` once it could.
   */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.loaded) this.log.warn('directory not loaded yet; recipients and logins get temporary errors until it is');
    // A store that announces changes is heard at once; the polls stay as the safety net.
    this.unfollow = this.store.follow?.(() => this.heard());
    // A slow or failing store does not pile up polls: a tick is skipped while a load runs or backs off.
    this.timer = setInterval(() => void (this.loading || Date.now() < this.retryAt || this.refresh()), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    void this.unfollow?.();
  }

  /** A change was announced: one load queued behind the one in flight, however many announcements come meanwhile. */
  private heard(): void {
    if (this.heardPending) return;
    this.heardPending = true;
    this.chain = this.chain.then(() => {
      this.heardPending = false;
      return this.load();
    });
  }

  /** Sees every change committed before the call: runs after any load already in flight. */
  refresh(): Promise<void> {
    this.chain = this.chain.then(() => this.load());
    return this.chain;
  }

  private async load(): Promise<void> {
    this.loading = true;
    try {
      if ((await this.store.version()) !== this.version) {
        const snapshot = await this.store.snapshot();
        this.index = indexOf(snapshot, this.postmasterMailbox);
        this.version = snapshot.version;
        this.log.debug({ version: snapshot.version }, 'directory cache refreshed');
      }
      if (this.failures > 0) this.log.info({ failures: this.failures }, 'directory store answers again');
      this.failures = 0;
      this.retryAt = 0;
    } catch (err) {
      // Logged once per outage, not on every poll.
      if (this.failures === 0) this.log.warn({ err }, this.loaded ? 'directory refresh failed; serving the cached copy' : 'directory cannot be read yet');
      this.failures++;
      this.retryAt = Date.now() + Math.min(MAX_RETRY_MS, this.refreshMs * 2 ** Math.min(this.failures, 10));
    } finally {
      this.loading = false;
    }
  }

  isHostedDomain(domain: string): boolean {
    return this.index.domains.has(domain);
  }

  isKnownRecipient(address: string): boolean {
    return this.index.domains.has(domainOf(address)) && isKnownRecipient(this.index, address);
  }

  expand(address: string, localOnly = false, follows?: (f: ForwardRecord) => boolean): Expansion {
    return expandRecipient(this.index, address, localOnly, follows);
  }

  get hasConditionalForwards(): boolean {
    return this.index.conditional;
  }

  postmaster(): string | undefined {
    return this.index.firstDomain && `postmaster@${this.index.firstDomain}`;
  }

  maySendAs(account: string, address: string): boolean {
    // A catch-all does not count: it would let one user send as every address of the domain.
    return address === account || (this.index.aliases.get(address)?.targets.includes(account) ?? false);
  }

  dkimKey(domain: string): DkimKeyRecord | undefined {
    return this.index.dkim.get(domain);
  }

  /** Every DKIM key of the domain, the active one first: what its zone publishes. */
  dnsRecords(domain: string): readonly DnsRecord[] {
    return this.index.dnsRecords.get(domain) ?? [];
  }

  dkimKeys(domain: string): readonly DkimKeyRecord[] {
    return this.index.allDkim.get(domain) ?? [];
  }

  /** The directory's version as last loaded: it grows with every change (a zone's serial follows it). */
  get loadedVersion(): number {
    return this.version;
  }

  account(address: string): AccountRecord | undefined {
    return this.index.accounts.get(address);
  }

  autoReply(account: string): AutoReplyRecord | undefined {
    return this.index.autoReplies.get(account);
  }

  policyFor(address: string): AccessPolicy {
    return this.index.policies.get(`account:${address}`) ?? this.index.policies.get(`domain:${domainOf(address)}`) ?? OPEN_POLICY;
  }

  policyOf(scope: string): AccessPolicy | undefined {
    return this.index.policies.get(scope);
  }

  operator(login: string): OperatorRecord | undefined {
    return this.index.operators.get(login);
  }

  domains(tenant?: string): DomainRecord[] {
    const all = [...this.index.domainRecords.values()].filter((d) => tenant === undefined || d.tenant === tenant);
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  accountsIn(domain: string): AccountRecord[] {
    return [...this.index.accounts.values()].filter((a) => a.domain === domain);
  }

  tenant(name: string): TenantRecord | undefined {
    return this.index.tenants.get(name);
  }

  tenantOf(domain: string): TenantRecord | undefined {
    const record = this.index.domainRecords.get(domain);
    return record && this.index.tenants.get(record.tenant);
  }
}
