import type { AccountRecord, RecipientDirectory } from '../directory/index.js';
import { withDeadline, type MailStore } from '../mailstore/index.js';
import { composeQuotaWarning } from '../message/index.js';
import type { OnceNotice } from '../queue/index.js';
import type { Logger } from '../observability/index.js';
import { noticeEnvelope } from './bounces.js';

export interface QuotaWarningOptions {
  readonly hostname: string;
  /** Share of the quota (percent) past which the user is warned. */
  readonly percent: number;
  /** A warned user is warned again after this long if the mailbox is still that full. */
  readonly repeatMs: number;
  readonly storeTimeoutMs: number;
}

/**
 * Warnings for the accounts just delivered to whose mailbox passed the share of its quota:
 * a message from their domain's postmaster into their own mailbox, at most once per
 * `repeatMs` (the spool's once-key, taken in the commit that completes the delivery).
 * A store that does not answer in time costs the warning, never the delivery.
 */
export async function quotaWarnings(store: MailStore, directory: RecipientDirectory, accounts: readonly AccountRecord[], options: QuotaWarningOptions, log: Logger): Promise<OnceNotice[]> {
  const notices: OnceNotice[] = [];
  const now = Date.now();
  for (const account of accounts) {
    if (account.quotaBytes <= 0) continue;
    let bytes: number;
    try {
      bytes = (await withDeadline(store.status(account.id), options.storeTimeoutMs)).usedBytes;
    } catch (err) {
      log.debug({ err, account: account.address }, 'no quota check: the mailbox store did not answer');
      continue;
    }
    if (bytes * 100 < account.quotaBytes * options.percent) continue;
    const body = composeQuotaWarning({ from: `postmaster@${account.domain}`, to: account.address, usedBytes: bytes, quotaBytes: account.quotaBytes, hostname: options.hostname, date: new Date(now) });
    notices.push({ key: `quota-warning\n${account.address}`, until: now + options.repeatMs, notice: { envelope: noticeEnvelope(directory, account.address, false), body } });
  }
  return notices;
}
