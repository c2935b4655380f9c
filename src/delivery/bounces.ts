import { domainOf, normalizeAddress } from '../mail/index.js';
import { HeaderCollector, composeDsn, headerValues, parseHeaderFields, type DsnRecipient } from '../message/index.js';
import type { RecipientDirectory } from '../directory/index.js';
import type { Notice, QueueEntry, Spool } from '../queue/index.js';

// The original header section attached to a DSN is cut at this size.
const MAX_ATTACHED_HEADER = 64 * 1024;

/** The header section of a spooled message, read from its start only. */
export async function originalHeaders(spool: Spool, messageId: string): Promise<Buffer> {
  const collector = new HeaderCollector(MAX_ATTACHED_HEADER);
  const body = spool.openBody(messageId);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const done = collector.push(chunk);
      if (done) return done.header;
    }
    return collector.end() ?? Buffer.alloc(0);
  } finally {
    body.destroy();
  }
}

/** The header fields an operator's view of a queued message summarises, in this order. */
export const SUMMARY_FIELDS = ['From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID'] as const;

/** Those fields of a queued message (decoded as the message has them, several joined by ", "); absent ones left out. */
export async function headerSummary(spool: Spool, messageId: string): Promise<Record<string, string>> {
  const fields = parseHeaderFields(await originalHeaders(spool, messageId));
  return Object.fromEntries(SUMMARY_FIELDS.map((name) => [name, headerValues(fields, name).join(', ')]).filter(([, v]) => v));
}

/**
 * The DSN (RFC 3464) for some recipients of one message, as a Notice to queue with the
 * settle step; undefined when the message has the null sender (RFC 5321 §4.5.5: never
 * a bounce for a bounce). It goes to the envelope sender: delivered here when the
 * sender's domain is hosted (an SRS address included: it is hosted, and its delivery
 * sends the DSN on to the original sender), relayed otherwise.
 */
export async function dsnNotice(
  spool: Spool,
  directory: RecipientDirectory,
  reportingMta: string,
  entry: QueueEntry,
  recipients: readonly DsnRecipient[],
  willRetryUntil?: Date,
): Promise<Notice | undefined> {
  if (entry.mailFrom === '') return undefined;
  const body = composeDsn({
    reportingMta,
    to: entry.mailFrom,
    arrivalDate: new Date(entry.receivedAt),
    recipients,
    willRetryUntil,
    originalHeaders: await originalHeaders(spool, entry.messageId),
    date: new Date(),
  });
  return { envelope: noticeEnvelope(directory, entry.mailFrom, entry.smtputf8), body };
}

/** The DSN telling `entry`'s sender that the provider's operators deleted it from the queue; undefined for the null sender. */
export function deletedByOperatorDsn(spool: Spool, directory: RecipientDirectory, reportingMta: string, entry: QueueEntry): Promise<Notice | undefined> {
  return dsnNotice(spool, directory, reportingMta, entry, [{ rcpt: entry.rcpt, action: 'failed', status: '5.0.0', diagnostic: `deleted from the queue by the administrators of ${reportingMta}` }]);
}

/**
 * The envelope of a notice (DSN, automatic reply) to `to`, from the null sender: delivered
 * here when `to` is in a hosted domain, relayed otherwise.
 */
export function noticeEnvelope(directory: RecipientDirectory, to: string, smtputf8: boolean): Notice['envelope'] {
  const remote = !directory.isHostedDomain(domainOf(to.toLowerCase()));
  // Local entries are looked up by their normalized key; a remote address keeps its case.
  const rcpt = remote ? to : normalizedOr(to);
  return { mailFrom: '', recipients: [rcpt], smtputf8, remote: remote ? [rcpt] : [] };
}

function normalizedOr(address: string): string {
  try {
    return normalizeAddress(address);
  } catch {
    return address.toLowerCase();
  }
}
