import type { Spool } from '../queue/index.js';
import { CliError, printTable, type Io } from './output.js';

export const QUEUE_USAGE = `  queue list [--limit N]        queue entries: recipient, state, attempts, next attempt, last error`;

const when = (ms: number) => (ms >= Number.MAX_SAFE_INTEGER ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

/** Runs `hikyaku queue <action>`: what is waiting in the spool, like Postfix's mailq. */
export async function runQueueCommand(spool: Spool, action: string | undefined, flags: { json: boolean; limit?: string }, io: Io): Promise<void> {
  if (action !== 'list') throw new CliError(`unknown command "queue${action ? ' ' + action : ''}"; commands:\n${QUEUE_USAGE}`, 2);
  const limit = flags.limit === undefined ? 1000 : Number(flags.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CliError(`--limit must be a whole number above 0, got "${flags.limit}"`, 2);
  const rows = (await spool.list(limit)).map((e) => ({
    id: e.id,
    messageId: e.messageId,
    from: e.mailFrom === '' ? '<>' : e.mailFrom,
    rcpt: e.rcpt,
    route: e.route,
    state: e.state,
    attempts: e.attempts,
    nextAttempt: e.state === 'active' ? `leased until ${when(e.nextAttemptAt)}` : when(e.nextAttemptAt),
    lastError: e.lastError ?? '',
    received: when(e.receivedAt),
  }));
  printTable(io, flags.json, rows, [
    ['id', 'ID'],
    ['rcpt', 'RECIPIENT'],
    ['route', 'ROUTE'],
    ['state', 'STATE'],
    ['attempts', 'ATTEMPTS'],
    ['nextAttempt', 'NEXT ATTEMPT'],
    ['from', 'SENDER'],
    ['lastError', 'LAST ERROR'],
  ]);
  if (!flags.json && rows.length === limit) io.out(`(first ${limit} entries; --limit N shows more)`);
}
