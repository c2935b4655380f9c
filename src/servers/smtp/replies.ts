import { HikyakuError } from '../../mail/index.js';

/** The Error smtp-server turns into a reply: code, our enhanced code, a sentence. Never a stack trace. */
export function smtpError(err: unknown): Error & { responseCode: number } {
  const known = err instanceof HikyakuError ? err : new HikyakuError('ERR_SPOOL_UNAVAILABLE');
  const { code, enhanced, text } = known.smtpReply;
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}
