import { ACTION_STATES, applyInBatches, matchingIds, type ManageAction, type QueueFilter, type QueueOperator } from '../queue/index.js';
import { CliError, type Io } from './output.js';
import { startProgress } from './progress.js';

export const QUEUE_MANAGE_USAGE = `  queue hold|release|retry FILTER...
                                put entries aside (never delivered until released), release
                                them, or retry deferred ones now
  queue delete FILTER... [--dsn] --yes
                                remove entries, silently or with a DSN to each sender
        FILTER: --id N (repeatable) --sender ADDR|@DOMAIN|'<>' --rcpt ADDR|@DOMAIN
                --older MINUTES --state queued|deferred|held, or --all`;

/** What a managing command needs: the spool's operator and the audit log (wired by main.ts). */
export interface QueueManagement extends QueueOperator {
  /** Appends one record to the audit log. */
  audit(record: Record<string, unknown>): void;
}

export interface ManageFlags {
  readonly id?: readonly string[];
  readonly sender?: string;
  readonly rcpt?: string;
  readonly older?: string;
  readonly state?: string;
  readonly all?: boolean;
  readonly dsn?: boolean;
  readonly yes?: boolean;
}

/** Runs `hikyaku queue hold|release|retry|delete`: in batches, with progress, each recorded in the audit log. */
export async function runQueueManagement(m: QueueManagement, action: ManageAction, flags: ManageFlags, io: Io): Promise<void> {
  const filter = filterOf(action, flags);
  const ids = await matchingIds(m.spool, filter);
  if (action === 'delete' && !flags.yes) {
    throw new CliError(`${ids.length} entries match; nothing was deleted. Run again with --yes to delete them${flags.dsn ? ', each sender getting a DSN' : ' without telling the senders (--dsn tells them)'}.`);
  }
  const progress = startProgress(io, `queue ${action}`, ids.length);
  let done = 0;
  try {
    done = await applyInBatches(m, action, ids, flags.dsn ?? false, (n) => progress.update(n));
  } finally {
    progress.stop();
    m.audit({ command: `queue ${action}`, filter, dsn: action === 'delete' ? (flags.dsn ?? false) : undefined, matched: ids.length, changed: done });
  }
  const skipped = ids.length - done;
  io.out(`${PAST[action]} ${done} entr${done === 1 ? 'y' : 'ies'}${skipped > 0 ? `; ${skipped} changed state meanwhile (in delivery or settled) and were left alone` : ''}`);
}

const PAST: Record<ManageAction, string> = { hold: 'held', release: 'released', retry: 'retrying', delete: 'deleted' };

function filterOf(action: ManageAction, flags: ManageFlags): QueueFilter {
  const ids = flags.id?.map((v) => {
    if (!/^\d{1,15}$/.test(v)) throw new CliError(`--id must be an entry number (see queue list), got "${v}"`, 2);
    return Number(v);
  });
  let older: number | undefined;
  if (flags.older !== undefined) {
    if (!/^\d{1,7}$/.test(flags.older)) throw new CliError(`--older must be a whole number of minutes, got "${flags.older}"`, 2);
    older = Number(flags.older);
  }
  for (const [name, value] of [['--sender', flags.sender], ['--rcpt', flags.rcpt]] as const) {
    if (value !== undefined && value !== '<>' && !/^[^@\s]*@[^@\s]+$/.test(value)) throw new CliError(`${name} must be an address, @domain or <>, got "${value}"`, 2);
  }
  const allowed: readonly string[] = ACTION_STATES[action];
  if (flags.state !== undefined && !allowed.includes(flags.state)) throw new CliError(`--state for queue ${action} must be ${allowed.join(' or ')}, got "${flags.state}"`, 2);
  const filter: QueueFilter = { ids, sender: flags.sender, recipient: flags.rcpt, olderThanMinutes: older, states: (flags.state ? [flags.state] : allowed) as QueueFilter['states'] };
  const narrowed = ids !== undefined || flags.sender !== undefined || flags.rcpt !== undefined || older !== undefined || flags.state !== undefined;
  if (!narrowed && !flags.all) throw new CliError(`queue ${action} needs a filter (--id, --sender, --rcpt, --older, --state) or --all`, 2);
  return filter;
}
