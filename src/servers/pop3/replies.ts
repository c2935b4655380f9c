import type { LoginFailure } from '../../auth/index.js';

/** The reply to a failed login (RFC 2449 §8 and RFC 3206 response codes). */
export function loginFailureReply(result: LoginFailure): string {
  switch (result.reason) {
    case 'unavailable':
      return '-ERR [SYS/TEMP] The account directory is not available yet; try again in a minute';
    case 'rate-limited':
      return `-ERR [AUTH] Too many failed logins; try again in ${Math.ceil(result.retryAfterMs / 60000)} minute(s)`;
    case 'disabled':
      return '-ERR [AUTH] This account is disabled; ask your administrator';
    case 'not-allowed':
      return `-ERR [AUTH] ${result.detail}`;
    default:
      return '-ERR [AUTH] Invalid user name or password';
  }
}
