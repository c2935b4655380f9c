import { randomBytes } from 'node:crypto';
import { rfc5322Date } from './trace.js';

/** What happened to one recipient (RFC 3464 §2.3). */
export interface DsnRecipient {
  readonly rcpt: string;
  /** RFC 3464 §2.3.3: `failed` for a bounce, `delayed` for a warning. */
  readonly action: 'failed' | 'delayed';
  /** RFC 3463 enhanced status code, e.g. 5.1.1. */
  readonly status: string;
  /** The remote server's reply or our own reason, one line. */
  readonly diagnostic: string;
  /** The host that gave the reply, if one did. */
  readonly remoteMta?: string;
}

export interface DsnInput {
  /** Our host name: Reporting-MTA and the From: domain. */
  readonly reportingMta: string;
  /** The envelope sender of the original message: the DSN's recipient. */
  readonly to: string;
  readonly arrivalDate: Date;
  readonly recipients: readonly DsnRecipient[];
  /** For delays: until when delivery is retried. */
  readonly willRetryUntil?: Date;
  /** The original header section, attached as text/rfc822-headers (RFC 6522 §3). */
  readonly originalHeaders: Buffer;
  readonly date: Date;
}

// Header values and DSN fields are ASCII lines: anything else from a remote reply is replaced.
const line = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 900);

/** Fields of a DSN must not be split by a rogue value; an address is printed only if plain. */
const addr = (s: string) => line(s).replace(/[<>;]/g, '?');

/**
 * A delivery status notification (RFC 3464) as a multipart/report (RFC 6522): a text
 * part for people, the machine-readable message/delivery-status, and the original
 * header section. Sent with the null reverse-path (RFC 5321 §4.5.5) and marked
 * Auto-Submitted (RFC 3834), so nothing answers it.
 */
export function composeDsn(d: DsnInput): Buffer {
  const delayed = d.recipients.every((r) => r.action === 'delayed');
  const boundary = `hikyaku-report-${randomBytes(9).toString('hex')}`;
  const subject = delayed ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender';
  const people = delayed
    ? [
        'This is the mail system at ' + line(d.reportingMta) + '.',
        '',
        'Your message could not be delivered yet to the recipients below. It is still',
        `being retried${d.willRetryUntil ? ' until ' + rfc5322Date(d.willRetryUntil) : ''}; you do not need to send it again.`,
      ]
    : [
        'This is the mail system at ' + line(d.reportingMta) + '.',
        '',
        'Your message could not be delivered to the recipients below. This is a',
        'permanent error; the message was not delivered to them.',
      ];
  for (const r of d.recipients) people.push('', `<${addr(r.rcpt)}>: ${line(r.diagnostic)}`);

  const perMessage = [`Reporting-MTA: dns; ${line(d.reportingMta)}`, `Arrival-Date: ${rfc5322Date(d.arrivalDate)}`];
  const perRecipient = d.recipients.map((r) => {
    const f = [`Final-Recipient: rfc822; ${addr(r.rcpt)}`, `Action: ${r.action}`, `Status: ${r.status}`];
    if (r.remoteMta) f.push(`Remote-MTA: dns; ${line(r.remoteMta)}`);
    f.push(`Diagnostic-Code: smtp; ${line(r.diagnostic)}`);
    if (r.action === 'delayed' && d.willRetryUntil) f.push(`Will-Retry-Until: ${rfc5322Date(d.willRetryUntil)}`);
    return f.join('\r\n');
  });

  let headers = d.originalHeaders;
  if (!headers.subarray(-2).equals(Buffer.from('\r\n'))) headers = Buffer.concat([headers, Buffer.from('\r\n')]);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${line(d.reportingMta)}>`,
    `To: <${addr(d.to)}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(d.date)}`,
    `Message-ID: <${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@${line(d.reportingMta)}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    ...people,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    'Content-Description: Undelivered message headers',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head), headers, Buffer.from(`--${boundary}--\r\n`)]);
}
