import type { ForwardRecord } from '../directory/index.js';
import { decodeWords, headerValues, parseHeaderFields } from '../message/index.js';
import type { QueueEntry, Spool } from '../queue/index.js';
import type { Logger } from '../observability/index.js';
import { originalHeaders } from './bounces.js';

/**
 * Which forwards this message takes (conditional forwarding): a forward with conditions
 * only when its texts occur in the Subject and the sender (From: or the envelope). A header
 * that cannot be read takes no conditional forward: the mail stays in the mailbox.
 */
export async function forwardConditionTest(spool: Spool, entry: QueueEntry, log: Logger): Promise<(f: ForwardRecord) => boolean> {
  let subject = '';
  let from = entry.mailFrom.toLowerCase();
  try {
    const fields = parseHeaderFields(await originalHeaders(spool, entry.messageId));
    subject = decodeWords(headerValues(fields, 'Subject').join(' ')).toLowerCase();
    from += ' ' + decodeWords(headerValues(fields, 'From').join(' ')).toLowerCase();
  } catch (err) {
    log.warn({ err }, 'conditional forwards not taken: the message header could not be read');
    return (f) => f.conditions === null;
  }
  return (f) => {
    const c = f.conditions;
    if (!c) return true;
    return (!c.subjectContains || subject.includes(c.subjectContains.toLowerCase())) && (!c.fromContains || from.includes(c.fromContains.toLowerCase()));
  };
}
