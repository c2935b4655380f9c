import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { HikyakuError } from '../../mail/index.js';

// RFC 5321 §4.1.1.11: a parameter the server did not announce gets 555.
const MAIL_PARAMS = ['SIZE', 'BODY', 'SMTPUTF8'];

const NON_ASCII = /[^\x00-\x7f]/;

export function hasParam(args: unknown, name: string): boolean {
  return Boolean(args && typeof args === 'object' && Object.keys(args).some((k) => k.toUpperCase() === name));
}

function unknownParams(args: unknown, allowed: readonly string[]): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  return Object.keys(args).find((k) => !allowed.includes(k.toUpperCase()));
}

/** The refusal MAIL FROM's parameters call for, if any: unknown ones (555), UTF-8 without SMTPUTF8 (553). */
export function mailParamError(address: SMTPServerAddress): HikyakuError | undefined {
  const unknown = unknownParams(address.args, MAIL_PARAMS);
  if (unknown) return new HikyakuError('ERR_PARAM_UNKNOWN', unknown);
  if (NON_ASCII.test(address.address) && !hasParam(address.args, 'SMTPUTF8')) return new HikyakuError('ERR_UTF8_REQUIRED');
  return undefined;
}

/** The refusal RCPT TO's parameters call for, if any. No RCPT parameters are offered until DSN (RFC 3461) is. */
export function rcptParamError(address: SMTPServerAddress, session: SMTPServerSession): HikyakuError | undefined {
  const unknown = unknownParams(address.args, []);
  if (unknown) return new HikyakuError('ERR_PARAM_UNKNOWN', unknown);
  // RFC 6531 §3.5: a non-ASCII address in a transaction without SMTPUTF8 gets 553 5.6.7.
  if (NON_ASCII.test(address.address) && !hasParam(session.envelope.mailFrom ? session.envelope.mailFrom.args : undefined, 'SMTPUTF8')) {
    return new HikyakuError('ERR_UTF8_REQUIRED');
  }
  return undefined;
}
