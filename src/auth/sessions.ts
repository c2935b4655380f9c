/** Who a portal session belongs to: an account (by address) or a provider operator (by login). */
export type SessionKind = 'account' | 'operator';

export interface PortalSession {
  readonly subject: string;
  readonly kind: SessionKind;
  /** The token forms and API calls that change something must echo (X-CSRF-Token). */
  readonly csrf: string;
  readonly ip: string;
  readonly createdAt: number;
  readonly seenAt: number;
  readonly expiresAt: number;
}

export interface LastLogin {
  readonly at: number;
  readonly ip: string;
  readonly protocol: string;
}

/**
 * Portal sessions, kept where every portal instance reads them (the directory store), so
 * that any instance serves any session and a standby has nothing to copy (principle 6).
 *
 * Contract for every backend:
 * - Tokens are never stored: only a hash of each, so a copy of the store opens no session.
 * - `get` answers undefined for an unknown or expired token.
 * - Writes are durable when they resolve; errors are thrown, never swallowed.
 */
export interface SessionStore {
  /** Opens a session; the token is returned once and goes into the cookie. */
  create(input: { subject: string; kind: SessionKind; ip: string; ttlMs: number; csrf: string }): Promise<{ token: string; session: PortalSession }>;
  get(token: string, now?: number): Promise<PortalSession | undefined>;
  /** Slides the session's expiry (idle timeout) to `expiresAt`. */
  touch(token: string, seenAt: number, expiresAt: number): Promise<void>;
  remove(token: string): Promise<void>;
  /** Ends every session of `subject` (password reset, account disabled or removed) but `keep`. */
  removeSubject(subject: string, keep?: string): Promise<number>;
  /** Drops expired sessions; returns how many. */
  sweep(now?: number): Promise<number>;
  /** Keeps each subject's latest login (an older one never replaces a newer); all in one write. */
  recordLogins(logins: ReadonlyMap<string, LastLogin>): Promise<void>;
  lastLogins(subjects: readonly string[]): Promise<Map<string, LastLogin>>;
}

/** A token for automation: it acts as an administrator of one tenant (or, made by an operator without one, of all). */
export interface ApiToken {
  /** The public part of the token, shown in lists. */
  readonly id: string;
  readonly name: string;
  /** null: every tenant (made by an operator). */
  readonly tenant: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

/**
 * API tokens, beside the sessions. Contract: the secret is returned once by `create` and
 * stored only as a hash; `verify` answers the token for a presented `hky_<id>_<secret>`
 * or undefined; revoking is immediate for every portal instance.
 */
export interface ApiTokenStore {
  createToken(input: { name: string; tenant: string | null; createdBy: string }): Promise<{ token: string; record: ApiToken }>;
  verifyToken(presented: string, now?: number): Promise<ApiToken | undefined>;
  listTokens(tenant: string | null | undefined): Promise<ApiToken[]>;
  /** Only within `tenant` when one is given; true if a token went. */
  revokeToken(id: string, tenant: string | null | undefined): Promise<boolean>;
}

/** A second login factor (TOTP) of an account or operator. */
export interface TotpRecord {
  readonly secret: string;
  /** False until the user proved, with a code, that their app has it. */
  readonly confirmed: boolean;
}

/**
 * TOTP secrets, beside the sessions. Contract: `useStep` records a code's time step and
 * answers false for one not later than the last used (a code works once, RFC 6238 §5.2).
 */
export interface TotpStore {
  getTotp(subject: string): Promise<TotpRecord | undefined>;
  setTotp(subject: string, secret: string, confirmed: boolean): Promise<void>;
  useTotpStep(subject: string, step: number): Promise<boolean>;
  removeTotp(subject: string): Promise<boolean>;
}
