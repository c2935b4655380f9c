/** RFC 5322 §3.3 date-time, e.g. "Tue, 24 Nov 2026 01:02:03 +0000". */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface ReceivedInfo {
  /** What the client said in HELO/EHLO. */
  readonly helo: string;
  readonly remoteAddress: string;
  /** Reverse DNS name of the client, if known. */
  readonly remoteName?: string;
  readonly byHost: string;
  /** RFC 3848 / RFC 6531 §4.3 protocol type: ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS, ... */
  readonly protocol: string;
  readonly id: string;
  /** Set when the message has exactly one recipient (RFC 5321 §4.4: "for" clause). */
  readonly forAddress?: string;
  readonly date: Date;
}

// Characters a client may put in HELO that must not reach a header: keep printable ASCII only.
const clean = (s: string) => s.replace(/[^\x21-\x7e]/g, '?').slice(0, 255);

/** A Received: header (RFC 5321 §4.4), CRLF-terminated, folded on clause boundaries. */
export function receivedHeader(r: ReceivedInfo): Buffer {
  const from = `from ${clean(r.helo)} (${r.remoteName ? clean(r.remoteName) + ' ' : ''}[${clean(r.remoteAddress)}])`;
  const by = `by ${r.byHost} (Hikyaku) with ${r.protocol} id ${r.id}`;
  const forClause = r.forAddress ? `\r\n\tfor <${r.forAddress}>` : '';
  return Buffer.from(`Received: ${from}\r\n\t${by}${forClause};\r\n\t${rfc5322Date(r.date)}\r\n`);
}

/** The header lines local delivery puts before a message (RFC 5321 §4.4 Return-Path; Delivered-To as Postfix writes it). */
export function deliveryHeader(mailFrom: string, deliveredTo: string): Buffer {
  return Buffer.from(`Return-Path: <${mailFrom}>\r\nDelivered-To: ${deliveredTo}\r\n`);
}
