import { randomBytes } from 'node:crypto';
import { headerValues, type HeaderField } from './headers.js';
import { rfc5322Date } from './trace.js';

/** The envelope and header facts that decide whether an automatic reply may go out. */
export interface AutoReplyContext {
  /** The envelope sender of the message (the reply goes there). */
  readonly mailFrom: string;
  /** The addresses that count as the user's own: the one mail came to, the account's, its aliases. */
  readonly ownAddresses: readonly string[];
}

// RFC 3834 §2 and common practice (Sieve vacation, RFC 5230 §4.6): senders that are machines.
const MACHINE_SENDER = /^(postmaster|mailer-daemon|listserv|majordomo|owner-[^@]*|[^@]*-request|[^@]*-owner|no-?reply|bounces?)@/i;

/** Addresses in To:/Cc:-style field values, lower case (angle-bracketed ones, or bare words with an @). */
export function addressesIn(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    // Drop quoted display names and comments first: "a@b" <c@d> is c@d.
    const text = v.replace(/"(?:[^"\\]|\\.)*"/g, ' ').replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
    const bracketed = [...text.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((m) => m[1]!);
    const bare = text.replace(/<[^>]*>/g, ' ').split(/[\s,;:]+/).filter((w) => w.includes('@'));
    for (const a of [...bracketed, ...bare]) out.push(a.toLowerCase());
  }
  return out;
}

/**
 * Why no automatic reply may answer this message, or undefined when one may (RFC 3834 §2):
 * never to the null sender or a machine, never to automatically submitted mail or to list
 * and bulk mail, and only when the user is a named recipient (in To: or Cc:, so that Bcc'd
 * copies and list traffic get no reply).
 */
export function autoReplyRefusal(fields: readonly HeaderField[], ctx: AutoReplyContext): string | undefined {
  if (ctx.mailFrom === '') return 'null sender';
  if (MACHINE_SENDER.test(ctx.mailFrom)) return 'sender is a machine';
  const auto = headerValues(fields, 'Auto-Submitted')[0];
  if (auto !== undefined && auto.split(';')[0]!.trim().toLowerCase() !== 'no') return 'automatically submitted';
  if (headerValues(fields, 'Precedence').some((p) => /^(bulk|list|junk)$/i.test(p.trim()))) return 'bulk or list mail';
  if (['List-Id', 'List-Unsubscribe', 'List-Post', 'Feedback-ID'].some((n) => headerValues(fields, n).length > 0)) return 'list mail';
  const named = new Set(addressesIn([...headerValues(fields, 'To'), ...headerValues(fields, 'Cc')]));
  if (!ctx.ownAddresses.some((a) => named.has(a.toLowerCase()))) return 'the user is not in To or Cc';
  return undefined;
}

/** An unstructured header value, as an RFC 2047 encoded word (B, UTF-8) when it is not ASCII. */
export function encodeWords(text: string): string {
  const clean = text.replace(/[\r\n\t]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  // Each word at most 75 characters (RFC 2047 §2): 45 bytes of UTF-8 make 60 of base64; characters are never split.
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

/** A plain text message in UTF-8 (base64 when it is not ASCII), sent by the system. */
interface TextMessage {
  readonly from: string;
  /** Absent for mail to many: their addresses are in the envelope only. */
  readonly to?: string;
  readonly subject: string;
  readonly text: string;
  readonly hostname: string;
  readonly date: Date;
  /** RFC 3834 §5: auto-replied for a reply, auto-generated for a notice. */
  readonly autoSubmitted: 'auto-replied' | 'auto-generated';
  readonly extraHeaders?: readonly string[];
}

function textMessage(m: TextMessage): Buffer {
  const ascii = /^[\x00-\x7f]*$/.test(m.text);
  const body = m.text.replace(/\r?\n/g, '\r\n');
  const lines = [
    `From: <${m.from}>`,
    m.to === undefined ? 'To: undisclosed-recipients:;' : `To: <${m.to}>`,
    `Subject: ${encodeWords(m.subject)}`,
    `Date: ${rfc5322Date(m.date)}`,
    `Message-ID: <${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@${m.hostname}>`,
    ...(m.extraHeaders ?? []),
    `Auto-Submitted: ${m.autoSubmitted}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
  ];
  const encoded = ascii ? body : (Buffer.from(body).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${encoded}\r\n`);
}

/**
 * An unstructured header value with its RFC 2047 encoded words decoded (B and Q, any
 * charset the runtime knows: UTF-8, ISO-2022-JP, Shift_JIS…); a word it cannot decode
 * stays as written.
 */
export function decodeWords(value: string): string {
  // RFC 2047 §6.2: white space between adjacent encoded words is dropped.
  return value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1').replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, enc: string, text: string) => {
    if (enc.toUpperCase() === 'B' && !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return word;
    try {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(charset.split('*')[0]!.toLowerCase(), { fatal: true }).decode(bytes);
    } catch {
      return word;
    }
  });
}

export interface AutoReplyInput {
  /** The user's address: the reply's From:. */
  readonly from: string;
  readonly to: string;
  /** The user's subject; empty: "Auto: " and the original's. */
  readonly subject: string;
  readonly text: string;
  readonly original: readonly HeaderField[];
  readonly hostname: string;
  readonly date: Date;
}

/**
 * The reply (RFC 3834 §3): Auto-Submitted: auto-replied, In-Reply-To and References to the
 * original, a plain text body in UTF-8 (base64 when it is not ASCII).
 */
export function composeAutoReply(r: AutoReplyInput): Buffer {
  const originalId = headerValues(r.original, 'Message-ID')[0]?.trim();
  const originalSubject = headerValues(r.original, 'Subject')[0] ?? '';
  const references = [...(headerValues(r.original, 'References')[0]?.split(/\s+/).filter(Boolean) ?? []), ...(originalId ? [originalId] : [])].slice(-10);
  return textMessage({
    ...r,
    subject: r.subject.trim() || `Auto: ${originalSubject}`.trim(),
    autoSubmitted: 'auto-replied',
    extraHeaders: [...(originalId ? [`In-Reply-To: ${originalId}`] : []), ...(references.length ? [`References: ${references.join(' ')}`] : [])],
  });
}

const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : bytes >= 1024 ** 2 ? `${Math.round(bytes / 1024 ** 2)} MB` : `${Math.round(bytes / 1024)} KB`);

/** The warning to a user whose mailbox passed a share of its quota, in Japanese and English. */
export function composeQuotaWarning(w: { from: string; to: string; usedBytes: number; quotaBytes: number; hostname: string; date: Date }): Buffer {
  const percent = Math.floor((w.usedBytes / w.quotaBytes) * 100);
  const figures = `${size(w.usedBytes)} / ${size(w.quotaBytes)} (${percent}%)`;
  return textMessage({
    from: w.from,
    to: w.to,
    subject: `メールボックスの容量が残りわずかです / Your mailbox is ${percent}% full`,
    text: [
      `メールボックス ${w.to} の使用量が容量の ${percent}% に達しました: ${figures}`,
      '容量を超えると新しいメールを受け取れなくなります。不要なメールを削除するか、管理者に容量の追加をご相談ください。',
      '',
      `The mailbox ${w.to} uses ${percent}% of its quota: ${figures}`,
      'Once it is full, new mail cannot be delivered. Delete mail you no longer need, or ask your administrator for more space.',
    ].join('\n'),
    hostname: w.hostname,
    date: w.date,
    autoSubmitted: 'auto-generated',
  });
}

/** A maintenance or incident notice mailed to customers' administrators (one message, the recipients in the envelope). */
export function composeNoticeMail(n: { from: string; kind: 'maintenance' | 'incident'; title: string; body: string; statusUrl: string; revised: boolean; hostname: string; date: Date }): Buffer {
  const kind = n.kind === 'incident' ? '障害のお知らせ / Incident' : 'メンテナンスのお知らせ / Maintenance';
  return textMessage({
    from: n.from,
    subject: `[${kind}]${n.revised ? ' (更新 / updated)' : ''} ${n.title}`,
    text: [n.body, '', `最新の状況 / Current status: ${n.statusUrl}`].join('\n'),
    hostname: n.hostname,
    date: n.date,
    autoSubmitted: 'auto-generated',
  });
}
