import { createHmac, randomBytes } from 'node:crypto';
import { AddressError, loginKey } from '../mail/index.js';
import { allowedFrom, verifyPassword, type AccountRecord, type LoginDirectory, type OperatorRecord } from '../directory/index.js';
import { LoginGuard, type LoginGuardOptions } from './login-guard.js';
import type { SharedCounters } from './window-counts.js';

export type LoginFailure =
  | { readonly ok: false; readonly reason: 'invalid' }
  /** The password was right, but the account is disabled or its tenant suspended. */
  | { readonly ok: false; readonly reason: 'disabled' }
  /** The password was right, but the account's policy forbids this protocol or this client's network. */
  | { readonly ok: false; readonly reason: 'not-allowed'; readonly detail: string }
  /** The directory has not loaded yet: nothing can be checked; a temporary error. */
  | { readonly ok: false; readonly reason: 'unavailable' }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterMs: number };

/** The protocols an account's policy switches on and off. */
export type PolicedProtocol = 'pop3' | 'imap' | 'submission';

const PROTOCOL_NAMES: Record<PolicedProtocol, string> = { pop3: 'POP3', imap: 'IMAP', submission: 'Sending mail (SMTP submission)' };

export type LoginResult = { readonly ok: true; readonly account: AccountRecord } | LoginFailure;
export type OperatorLoginResult = { readonly ok: true; readonly operator: OperatorRecord } | LoginFailure;

export interface AuthenticatorOptions extends LoginGuardOptions {
  /** Every failed login is answered only after this delay (slows guessing down). */
  readonly failureDelayMs: number;
  /** How long a successful password check is remembered; 0: never. */
  readonly cacheMs: number;
  /** Failed logins counted with the other nodes (PostgreSQL); absent: this node counts alone. */
  readonly shared?: SharedCounters;
  readonly onSharedError?: (err: unknown) => void;
}

// Bounds the cache's memory: past this many entries the oldest are dropped.
const CACHE_MAX = 100_000;

// Verified against when the user does not exist, so a wrong user name costs as much as a wrong password.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0b1Y3a4Uaa0VJmxhqWgW5N+GT0WkWcZJz0Vw4PZNmto';

/**
 * Checks a user name and password against the directory cache: logging in needs
 * neither the directory store nor the mailbox store (DESIGN.md principle 4).
 */
export class Authenticator {
  private readonly guard: LoginGuard;
  /**
   * Successful checks, as Dovecot's auth cache keeps them: the key is an HMAC of user and
   * password under a per-process secret (no password is kept), the value the stored hash it
   * matched, so a password change invalidates the entry at once.
   */
  private readonly verified = new Map<string, { hash: string; until: number }>();
  private readonly secret = randomBytes(32);

  /** `verify` checks a password against a stored hash (argon2id and imported schemes by default). */
  /** Told of every protocol login that succeeded (for the accounts' "last login"). */
  onLogin: ((address: string, ip: string, protocol: PolicedProtocol) => void) | undefined;

  constructor(
    private readonly directory: LoginDirectory,
    private readonly options: AuthenticatorOptions,
    private readonly verify: (hash: string, password: string) => Promise<boolean> = verifyPassword,
  ) {
    this.guard = new LoginGuard(options, options.shared, options.onSharedError);
  }

  /**
   * An account's login (POP3, SMTP AUTH, portal): its address, or `user%domain`. With a
   * `protocol`, the account's policy decides whether it may use it from `remoteIp`; that
   * is told only to someone who knew the password.
   */
  async login(username: string, password: string, remoteIp: string, protocol?: PolicedProtocol): Promise<LoginResult> {
    const key = safeKey(username);
    const account = this.directory.loaded ? this.directory.account(key) : undefined;
    const result = await this.check(key, account?.passwordHash, password, remoteIp);
    if (!result.ok) return result;
    if (account!.disabled || this.directory.tenantOf(account!.domain)?.suspended) return { ok: false, reason: 'disabled' };
    if (protocol) {
      const policy = this.directory.policyFor(account!.address);
      if (!policy[protocol]) return { ok: false, reason: 'not-allowed', detail: `${PROTOCOL_NAMES[protocol]} is turned off for this account; ask your administrator` };
      if (!allowedFrom(policy, remoteIp)) return { ok: false, reason: 'not-allowed', detail: `This account may not log in from ${remoteIp}; ask your administrator` };
      this.onLogin?.(account!.address, remoteIp, protocol);
    }
    return { ok: true, account: account! };
  }

  /** A provider operator's portal login, by login name; counted by the same guard. */
  async loginOperator(login: string, password: string, remoteIp: string): Promise<OperatorLoginResult> {
    const key = login.trim().toLowerCase();
    const operator = this.directory.loaded ? this.directory.operator(key) : undefined;
    const result = await this.check(key, operator?.passwordHash, password, remoteIp);
    return result.ok ? { ok: true, operator: operator! } : result;
  }

  /**
   * A website's upload login (SFTP): the domain as user name, checked against the hash its
   * administrator set (undefined: no login), counted by the same guard as every other login.
   */
  async loginSite(domain: string, hash: string | undefined, password: string, remoteIp: string): Promise<{ ok: true } | LoginFailure> {
    const key = `site:${domain.trim().toLowerCase()}`;
    const result = await this.check(key, hash, password, remoteIp);
    if (result.ok && this.directory.tenantOf(domain)?.suspended) return { ok: false, reason: 'disabled' };
    return result;
  }

  /** A failed second factor after a right password: counted like a failed login. */
  async secondFactorFailed(username: string, remoteIp: string): Promise<void> {
    this.guard.failed(remoteIp, username.includes('@') || username.includes('%') ? safeKey(username) : username.trim().toLowerCase());
    await new Promise((r) => setTimeout(r, this.options.failureDelayMs));
  }

  private async check(key: string, hash: string | undefined, password: string, remoteIp: string): Promise<{ ok: true } | LoginFailure> {
    if (!this.directory.loaded) return { ok: false, reason: 'unavailable' };
    await this.guard.pull(remoteIp, key);
    const wait = this.guard.blockedFor(remoteIp, key);
    if (wait > 0) return { ok: false, reason: 'rate-limited', retryAfterMs: wait };
    const cacheKey = createHmac('sha256', this.secret).update(key).update('\0').update(password).digest('base64');
    const cached = this.verified.get(cacheKey);
    if (hash && cached && cached.hash === hash && cached.until > Date.now()) {
      this.guard.succeeded(remoteIp, key);
      return { ok: true };
    }
    const valid = await this.verify(hash ?? DUMMY_HASH, password).catch(() => false);
    if (hash && valid) {
      this.guard.succeeded(remoteIp, key);
      if (this.options.cacheMs > 0) {
        if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(cacheKey, { hash, until: Date.now() + this.options.cacheMs });
      }
      return { ok: true };
    }
    this.guard.failed(remoteIp, key);
    await new Promise((r) => setTimeout(r, this.options.failureDelayMs));
    return { ok: false, reason: 'invalid' };
  }
}

/** The key a login name is counted and looked up under; a name that is no address counts as typed. */
function safeKey(username: string): string {
  try {
    return loginKey(username);
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    return username.toLowerCase();
  }
}
