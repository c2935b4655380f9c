import type { AccountRecord, RecipientDirectory } from '../directory/index.js';
import { autoReplyRefusal, composeAutoReply, parseHeaderFields } from '../message/index.js';
import type { OnceNotice, QueueEntry, Spool } from '../queue/index.js';
import type { Logger } from '../observability/index.js';
import { noticeEnvelope, originalHeaders } from './bounces.js';

export interface AutoReplyOptions {
  readonly hostname: string;
  /** One reply per sender per account within this long (RFC 3834 §2, Sieve vacation's :days). */
  readonly intervalMs: number;
}

/**
 * The automatic replies that `entry`, just delivered to `accounts`, earns: for each account
 * whose reply is on now, unless the message must get none (RFC 3834 §2) or the sender got
 * one within the interval. They are queued in the commit that completes the entry, which
 * takes the per-sender key, so a retried or parallel delivery sends no second reply.
 */
export async function autoReplyNotices(
  spool: Spool,
  directory: RecipientDirectory,
  entry: QueueEntry,
  accounts: readonly AccountRecord[],
  options: AutoReplyOptions,
  log: Logger,
): Promise<OnceNotice[]> {
  const now = Date.now();
  if (entry.mailFrom === '') return [];
  const sender = entry.mailFrom.toLowerCase();
  const due: { account: AccountRecord; key: string; subject: string; body: string }[] = [];
  for (const account of accounts) {
    const reply = directory.autoReply(account.address);
    if (!reply?.enabled || (reply.startsAt ?? 0) > now || (reply.endsAt !== null && now >= reply.endsAt)) continue;
    const key = `autoreply\n${account.address}\n${sender}`;
    if (!(await spool.noticeKeyTaken(key, now))) due.push({ account, key, subject: reply.subject, body: reply.body });
  }
  if (due.length === 0) return [];
  let fields;
  try {
    fields = parseHeaderFields(await originalHeaders(spool, entry.messageId));
  } catch (err) {
    log.warn({ err }, 'no automatic reply: the message header could not be read');
    return [];
  }
  const notices: OnceNotice[] = [];
  for (const d of due) {
    const refusal = autoReplyRefusal(fields, { mailFrom: entry.mailFrom, ownAddresses: [entry.rcpt, d.account.address] });
    if (refusal) {
      log.debug({ account: d.account.address, refusal }, 'no automatic reply');
      continue;
    }
    const body = composeAutoReply({ from: d.account.address, to: entry.mailFrom, subject: d.subject, text: d.body, original: fields, hostname: options.hostname, date: new Date(now) });
    notices.push({ key: d.key, until: now + options.intervalMs, notice: { envelope: noticeEnvelope(directory, entry.mailFrom, entry.smtputf8), body } });
  }
  return notices;
}

