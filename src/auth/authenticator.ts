import { AddressError, normalizeAddress } from '../mail/index.js';
import { verifyPassword, type AccountRecord, type RecipientDirectory } from '../directory/index.js';
import { LoginGuard, type LoginGuardOptions } from './login-guard.js';

export type LoginResult =
  | { readonly ok: true; readonly account: AccountRecord }
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterMs: number };

export interface AuthenticatorOptions extends LoginGuardOptions {
  /** Every failed login is answered only after this delay (slows guessing down). */
  readonly failureDelayMs: number;
}

// Verified against when the user does not exist, so a wrong user name costs as much as a wrong password.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0b1Y3a4Uaa0VJmxhqWgW5N+GT0WkWcZJz0Vw4PZNmto';

/**
 * Checks a user name and password against the directory cache: logging in needs
 * neither the directory store nor the mailbox store (DESIGN.md principle 4).
 */
export class Authenticator {
  private readonly guard: LoginGuard;

  constructor(
    private readonly directory: RecipientDirectory,
    private readonly options: AuthenticatorOptions,
  ) {
    this.guard = new LoginGuard(options);
  }

  async login(username: string, password: string, remoteIp: string): Promise<LoginResult> {
    let key: string;
    try {
      key = normalizeAddress(username);
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      key = username.toLowerCase();
    }
    const wait = this.guard.blockedFor(remoteIp, key);
    if (wait > 0) return { ok: false, reason: 'rate-limited', retryAfterMs: wait };
    const account = this.directory.account(key);
    const valid = await verifyPassword(account?.passwordHash ?? DUMMY_HASH, password).catch(() => false);
    if (account && valid) {
      this.guard.succeeded(key);
      return { ok: true, account };
    }
    this.guard.failed(remoteIp, key);
    await new Promise((r) => setTimeout(r, this.options.failureDelayMs));
    return { ok: false, reason: 'invalid' };
  }
}
