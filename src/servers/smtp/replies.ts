import { HikyakuError } from '../../mail/index.js';

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) /;

type SendFn = (code: number, data?: string | string[], context?: string | false) => void;

/**
 * smtp-server derives the enhanced status code (RFC 3463) from the reply code alone,
 * so every 550 would say 5.1.1 and every 554 5.6.0, whatever the reason. Our errors
 * carry their own enhanced code at the start of the text; for those replies this
 * sends it as given instead of the library's guess.
 */
export function patchReplies(connection: { send: SendFn }): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (typeof data === 'string' && ENHANCED.test(data) && context !== false) return send(code, data, false);
    return send(code, data, context);
  };
}

/** The Error smtp-server turns into a reply: code, our enhanced code, a sentence. Never a stack trace. */
export function smtpError(err: unknown): Error & { responseCode: number } {
  const known = err instanceof HikyakuError ? err : new HikyakuError('ERR_SPOOL_UNAVAILABLE');
  const { code, enhanced, text } = known.smtpReply;
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}
