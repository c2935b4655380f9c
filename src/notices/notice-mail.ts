import type { AccountRecord, LoginDirectory } from '../directory/index.js';
import { composeNoticeMail } from '../message/index.js';
import type { Spool } from '../queue/index.js';
import type { ServiceNotice } from './types.js';

export interface NoticeMailer {
  readonly spool: Pick<Spool, 'begin'>;
  readonly directory: Pick<LoginDirectory, 'domains' | 'accountsIn'>;
  /** The host name notices come from (postmaster@ it) and Message-IDs name. */
  readonly hostname: string;
  /** The status page's address, linked from every notice. */
  readonly statusUrl: string;
}

/** The administrators (tenant and domain) of the tenants a notice concerns (every tenant when it names none), not disabled. */
export function noticeRecipients(directory: NoticeMailer['directory'], notice: Pick<ServiceNotice, 'tenants'>): string[] {
  const domains = notice.tenants.length ? notice.tenants.flatMap((t) => directory.domains(t)) : directory.domains();
  const admins = (a: AccountRecord) => a.role !== 'user' && !a.disabled;
  return [...new Set(domains.flatMap((d) => directory.accountsIn(d.name).filter(admins).map((a) => a.address)))].sort();
}

/**
 * Queues one message with the notice to its tenants' administrators, from the null sender
 * (nobody should answer it with a bounce); returns how many it went to.
 */
export async function mailNotice(m: NoticeMailer, notice: ServiceNotice): Promise<number> {
  const recipients = noticeRecipients(m.directory, notice);
  if (recipients.length === 0) return 0;
  const body = composeNoticeMail({ from: `postmaster@${m.hostname}`, kind: notice.kind, title: notice.title, body: notice.body, statusUrl: m.statusUrl, revised: notice.revision > 0, hostname: m.hostname, date: new Date() });
  const writer = await m.spool.begin();
  try {
    await writer.write(body);
    await writer.commit({ mailFrom: '', recipients, smtputf8: false });
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return recipients.length;
}
