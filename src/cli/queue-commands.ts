import { SHAPE_BUCKETS_MINUTES, regroupShape, type EntryState, type QueueListing, type ShapeBy, type Spool } from '../queue/index.js';
import { headerSummary } from '../delivery/index.js';
import { CliError, printTable, type Io } from './output.js';

export const QUEUE_USAGE = `  queue list [--limit N]        queue entries: recipient, state, attempts, next attempt, last error
  queue shape [--by recipient|sender|tenant] [--state queued|active|deferred|held] [--limit N]
                                entries by domain (or customer) and age in minutes, like Postfix's qshape
  queue why [--limit N]         deferred entries grouped by their last error
  queue show ID                 one message: envelope, header summary, its entries, every failed attempt`;

const BUCKETS_MINUTES = SHAPE_BUCKETS_MINUTES;

const when = (ms: number) => (ms >= Number.MAX_SAFE_INTEGER ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

export interface QueueFlags {
  readonly json: boolean;
  /** `queue show`'s entry id (the positional argument). */
  readonly id?: string;
  readonly limit?: string;
  readonly by?: string;
  readonly state?: string;
}

/** Runs `hikyaku queue <action>`: what is waiting in the spool, like Postfix's mailq and qshape. */
export async function runQueueCommand(spool: Spool, action: string | undefined, flags: QueueFlags, io: Io, tenants: () => Promise<Map<string, string>>): Promise<void> {
  if (action === 'list') return list(spool, limitOf(flags, 1000), flags.json, io);
  if (action === 'shape') return shape(spool, flags, io, tenants);
  if (action === 'why') return why(spool, limitOf(flags, 20), flags.json, io);
  if (action === 'show') return show(spool, flags.id, flags.json, io);
  throw new CliError(`unknown command "queue${action ? ' ' + action : ''}"; commands:\n${QUEUE_USAGE}`, 2);
}

function limitOf(flags: QueueFlags, fallback: number): number {
  const limit = flags.limit === undefined ? fallback : /^\d{1,9}$/.test(flags.limit) ? Number(flags.limit) : NaN;
  if (!(limit >= 1)) throw new CliError(`--limit must be a whole number above 0, got "${flags.limit}"`, 2);
  return limit;
}

function listingRow(e: QueueListing) {
  return {
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
  };
}

const ENTRY_COLUMNS: [string, string][] = [
    ['id', 'ID'],
    ['rcpt', 'RECIPIENT'],
    ['route', 'ROUTE'],
    ['state', 'STATE'],
    ['attempts', 'ATTEMPTS'],
    ['nextAttempt', 'NEXT ATTEMPT'],
    ['from', 'SENDER'],
    ['lastError', 'LAST ERROR'],
];

async function list(spool: Spool, limit: number, json: boolean, io: Io): Promise<void> {
  const rows = (await spool.list(limit)).map(listingRow);
  printTable(io, json, rows, ENTRY_COLUMNS);
  if (!json && rows.length === limit) io.out(`(first ${limit} entries; --limit N shows more)`);
}

async function shape(spool: Spool, flags: QueueFlags, io: Io, tenants: () => Promise<Map<string, string>>): Promise<void> {
  const by = flags.by ?? 'recipient';
  if (by !== 'recipient' && by !== 'sender' && by !== 'tenant') throw new CliError(`--by must be recipient, sender or tenant, got "${by}"`, 2);
  const state = flags.state;
  if (state !== undefined && !['queued', 'active', 'deferred', 'held'].includes(state)) throw new CliError(`--state must be queued, active, deferred or held, got "${state}"`, 2);
  const limit = limitOf(flags, 50);
  const columns = [...BUCKETS_MINUTES.map(String), `${BUCKETS_MINUTES.at(-1)}+`];
  const shaped = await spool.shape(by === 'tenant' ? 'owner' : (by as ShapeBy), BUCKETS_MINUTES, state as EntryState | undefined);
  // By tenant: each entry counts for the hosted domain it belongs to, and that for its tenant.
  const owners = by === 'tenant' ? await tenants() : undefined;
  const rows = regroupShape(shaped, (domain) => (owners ? (owners.get(domain) ?? '(not hosted)') : domain)).map((r) => ({ domain: r.key, total: r.total, ...Object.fromEntries(columns.map((c, i) => [c, r.counts[i]!])) }));
  const shown = rows.slice(0, limit);
  if (!flags.json && shown.length > 0) {
    // qshape's first line: the total over every domain.
    const sum = (k: string) => rows.reduce((n, r) => n + (r as unknown as Record<string, number>)[k]!, 0);
    shown.unshift({ domain: 'TOTAL', total: sum('total'), ...Object.fromEntries(columns.map((c) => [c, sum(c)])) });
  }
  printTable(io, flags.json, shown, [['domain', by === 'recipient' ? 'RECIPIENT DOMAIN' : by === 'sender' ? 'SENDER DOMAIN' : 'TENANT'], ['total', 'T'], ...columns.map((c): [string, string] => [c, c])]);
  if (!flags.json && rows.length > limit) io.out(`(${rows.length - limit} more domains; --limit N shows more)`);
  if (!flags.json && rows.length > 0) io.out('(columns: entries younger than that many minutes since arrival)');
}

async function why(spool: Spool, limit: number, json: boolean, io: Io): Promise<void> {
  const rows = (await spool.deferReasons(limit)).map((r) => ({ count: r.count, oldest: when(r.oldestAt), error: r.error || '(no error recorded)' }));
  printTable(io, json, rows, [
    ['count', 'ENTRIES'],
    ['oldest', 'OLDEST ARRIVAL'],
    ['error', 'LAST ERROR'],
  ]);
}

async function show(spool: Spool, id: string | undefined, json: boolean, io: Io): Promise<void> {
  if (id === undefined || !/^\d{1,15}$/.test(id)) throw new CliError(`queue show takes an entry number (see queue list), got ${id === undefined ? 'nothing' : `"${id}"`}`, 2);
  const message = await spool.show(Number(id));
  if (!message) throw new CliError(`no entry ${id} in the queue (it may have been delivered meanwhile)`);
  const headers = await headerSummary(spool, message.messageId);
  if (json) {
    io.out(JSON.stringify({ ...message, headers }, null, 2));
    return;
  }
  io.out(`message ${message.messageId}, ${message.size} bytes, received ${when(message.receivedAt)}${message.smtputf8 ? ', SMTPUTF8' : ''}`);
  io.out(`sender  ${message.mailFrom === '' ? '<>' : message.mailFrom}`);
  for (const [name, value] of Object.entries(headers)) io.out(`${`${name}:`.padEnd(12)}${value.length > 200 ? `${value.slice(0, 200)}…` : value}`);
  io.out('');
  printTable(io, false, message.entries.map(listingRow), ENTRY_COLUMNS);
  io.out('');
  printTable(io, false, message.attempts.map((a) => ({ at: when(a.at), entry: a.entryId, error: a.error })), [
    ['at', 'FAILED ATTEMPT AT'],
    ['entry', 'ENTRY'],
    ['error', 'ERROR'],
  ]);
}
