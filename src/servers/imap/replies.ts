/**
 * The one mapping from errors to IMAP replies (RFC 9051 §7.1, response codes of RFC 5530):
 * the client sees a sentence and a code its software can act on; the cause goes to the log.
 */
import { HikyakuError, type ErrorCode } from '../../mail/index.js';
import { ParseError } from '../../imap/index.js';
import { isStoreTimeout } from '../../mailstore/index.js';
import type { LoginFailure } from '../../auth/index.js';

export interface Reply {
  readonly status: 'OK' | 'NO' | 'BAD';
  /** The response code without brackets: "READ-WRITE", "COPYUID 1 2 3". */
  readonly code?: string;
  readonly text: string;
}

export const ok = (text: string, code?: string): Reply => ({ status: 'OK', text, code });
export const no = (text: string, code?: string): Reply => ({ status: 'NO', text, code });
export const bad = (text: string, code?: string): Reply => ({ status: 'BAD', text, code });

/** Principle 4: a slow or failing store is a clear temporary answer, never a hang. */
export const UNAVAILABLE = no('The mailbox store did not answer in time; please try again shortly', 'UNAVAILABLE');

const CODES: Partial<Record<ErrorCode, string>> = {
  ERR_FOLDER_UNKNOWN: 'NONEXISTENT',
  ERR_FOLDER_EXISTS: 'ALREADYEXISTS',
  ERR_FOLDER_NAME: 'CANNOT',
  ERR_FOLDER_INBOX: 'CANNOT',
  ERR_FOLDER_HAS_CHILDREN: 'CANNOT',
  ERR_QUOTA_EXCEEDED: 'OVERQUOTA',
};

/** The reply for an error thrown by a command; `undefined` asks the caller to log it as unexpected. */
export function errorReply(err: unknown): Reply {
  if (err instanceof ParseError) return bad(err.message);
  if (isStoreTimeout(err)) return UNAVAILABLE;
  if (err instanceof HikyakuError) {
    const code = CODES[err.code];
    if (code) return no(err.message, code);
    if (err.code === 'ERR_STORE_FAILED') return UNAVAILABLE;
  }
  return UNAVAILABLE;
}

/** True when the error is one the client caused or a store answer we expect (not worth an error log). */
export function isExpected(err: unknown): boolean {
  return err instanceof ParseError || (err instanceof HikyakuError && CODES[err.code] !== undefined);
}

/** The reply to a failed login (RFC 5530 codes). */
export function loginFailureReply(result: LoginFailure): Reply {
  switch (result.reason) {
    case 'unavailable':
      return no('The account directory is not available yet; try again in a minute', 'UNAVAILABLE');
    case 'rate-limited':
      return no(`Too many failed logins; try again in ${Math.ceil(result.retryAfterMs / 60000)} minute(s)`, 'UNAVAILABLE');
    case 'disabled':
      return no('This account is disabled; ask your administrator', 'CONTACTADMIN');
    case 'not-allowed':
      return no(result.detail, 'CONTACTADMIN');
    default:
      return no('Invalid user name or password', 'AUTHENTICATIONFAILED');
  }
}
