import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerSummary } from '../../../delivery/index.js';
import { ACTION_STATES, MANAGE_ACTIONS, SHAPE_BUCKETS_MINUTES, applyInBatches, matchingIds, regroupShape, type EntryState, type ManageAction, type QueueFilter, type QueueListing } from '../../../queue/index.js';
import { withDeadline } from '../../../mailstore/index.js';
import { actorName, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { badRequest, forbidden, notFound, problemOf } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { text } from './common.js';

const STATES = ['queued', 'active', 'deferred', 'held'] as const;
/** An address, `@domain`, or `<>` (the null sender). */
const ADDRESS_PATTERN = '^(<>|[^@\\s]*@[^@\\s]+)$';
const address = { type: 'string', maxLength: 320, pattern: ADDRESS_PATTERN } as const;
const filterProperties = {
  sender: address,
  rcpt: address,
  tenant: text(63),
  olderMinutes: { type: 'integer', minimum: 0, maximum: 10_000_000 },
} as const;

interface FilterQuery {
  sender?: string;
  rcpt?: string;
  tenant?: string;
  olderMinutes?: number;
}

const NOT_HOSTED = '(not hosted)';

/** The queue is the provider's: operators, and tokens an operator made for every tenant. */
function requireProvider(actor: Actor): void {
  if (actor.kind === 'operator' || (actor.kind === 'token' && actor.tenant === null)) return;
  throw forbidden('The mail queue is managed by the provider\'s operators.');
}

const when = (ms: number) => (ms >= Number.MAX_SAFE_INTEGER ? null : new Date(ms).toISOString());

const listingView = (e: QueueListing) => ({
  id: e.id,
  messageId: e.messageId,
  sender: e.mailFrom === '' ? '<>' : e.mailFrom,
  rcpt: e.rcpt,
  route: e.route,
  state: e.state,
  attempts: e.attempts,
  nextAttemptAt: when(e.nextAttemptAt),
  lastError: e.lastError,
  receivedAt: new Date(e.receivedAt).toISOString(),
});

/**
 * The operators' queue view: the queue's shape by tenant or domain and age, why mail is
 * deferred, entries by filter, one message with every attempt, and hold, release, retry
 * and delete (with a DSN or silently) in batches with progress, each in the audit log.
 */
export function queueRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const spool = deps.queue.spool;
  const deadline = <T>(work: Promise<T>) => withDeadline(work, deps.options.storeTimeoutMs);

  const filterOf = (q: FilterQuery): QueueFilter => {
    let ownerDomains: string[] | undefined;
    if (q.tenant !== undefined) {
      if (!deps.directory.tenant(q.tenant)) throw badRequest(`No such tenant: ${q.tenant}.`, { field: 'tenant' });
      ownerDomains = deps.directory.domains(q.tenant).map((d) => d.name);
    }
    return { sender: q.sender, recipient: q.rcpt, olderThanMinutes: q.olderMinutes, ownerDomains };
  };

  app.get<{ Querystring: { by?: 'tenant' | 'recipient' | 'sender'; state?: EntryState } }>(
    '/api/v1/queue/summary',
    {
      ...pre,
      schema: {
        tags: ['queue'],
        summary: 'The queue at a glance: entries by state, its shape (by tenant or domain, by age in minutes, like qshape) and why mail is deferred',
        querystring: { type: 'object', additionalProperties: false, properties: { by: { type: 'string', enum: ['tenant', 'recipient', 'sender'] }, state: { type: 'string', enum: STATES } } },
      },
    },
    async (request) => {
      requireProvider(request.actor!);
      const by = request.query.by ?? 'tenant';
      const [stats, rows, reasons] = await Promise.all([
        deadline(spool.stats()),
        deadline(spool.shape(by === 'tenant' ? 'owner' : by, SHAPE_BUCKETS_MINUTES, request.query.state)),
        deadline(spool.deferReasons(20)),
      ]);
      const keyOf = by === 'tenant' ? (domain: string) => deps.directory.tenantOf(domain)?.name ?? NOT_HOSTED : (domain: string) => domain;
      return {
        byState: stats.byState,
        oldestSeconds: stats.oldestSeconds,
        bucketsMinutes: SHAPE_BUCKETS_MINUTES,
        shape: regroupShape(rows, keyOf).slice(0, 100),
        reasons: reasons.map((r) => ({ error: r.error || null, count: r.count, oldestAt: new Date(r.oldestAt).toISOString() })),
      };
    },
  );

  app.get<{ Querystring: FilterQuery & { state?: EntryState; after?: number; limit?: number } }>(
    '/api/v1/queue/entries',
    {
      ...pre,
      schema: {
        tags: ['queue'],
        summary: 'Queue entries matching a filter, oldest first; `next` continues the list',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterProperties, state: { type: 'string', enum: STATES }, after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 500 } },
        },
      },
    },
    async (request) => {
      requireProvider(request.actor!);
      const limit = request.query.limit ?? 100;
      const filter = { ...filterOf(request.query), states: request.query.state ? [request.query.state] : undefined };
      const items = await deadline(spool.list(limit, filter, request.query.after ?? 0));
      return { items: items.map(listingView), next: items.length === limit ? items.at(-1)!.id : null };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/queue/entries/:id',
    { ...pre, schema: { tags: ['queue'], summary: 'One queued message: envelope, header summary, its entries and every failed attempt', params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } } },
    async (request) => {
      requireProvider(request.actor!);
      const message = await deadline(spool.show(request.params.id));
      if (!message) throw notFound(`Queue entry ${request.params.id} (it may have been delivered meanwhile)`);
      return {
        messageId: message.messageId,
        sender: message.mailFrom === '' ? '<>' : message.mailFrom,
        size: message.size,
        receivedAt: new Date(message.receivedAt).toISOString(),
        smtputf8: message.smtputf8,
        headers: await deadline(headerSummary(spool, message.messageId)),
        entries: message.entries.map(listingView),
        attempts: message.attempts.map((a) => ({ entry: a.entryId, at: new Date(a.at).toISOString(), error: a.error })),
      };
    },
  );

  app.post<{ Params: { action: ManageAction }; Body: FilterQuery & { ids?: number[]; state?: EntryState; all?: boolean; dsn?: boolean; confirm?: boolean } }>(
    '/api/v1/queue/:action',
    {
      ...pre,
      schema: {
        tags: ['queue'],
        summary: 'Hold, release, retry or delete entries chosen by ids or filter, in batches; streamed as NDJSON progress lines',
        params: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: MANAGE_ACTIONS } } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterProperties,
            ids: { type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'integer', minimum: 1 } },
            state: { type: 'string', enum: STATES },
            all: { type: 'boolean' },
            dsn: { type: 'boolean' },
            confirm: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      requireProvider(request.actor!);
      const { action } = request.params;
      const body = request.body ?? {};
      const allowed = ACTION_STATES[action];
      if (body.state !== undefined && !allowed.includes(body.state)) throw badRequest(`Only ${allowed.join(' or ')} entries can be changed by ${action}.`, { field: 'state' });
      const narrowed = body.ids !== undefined || body.sender !== undefined || body.rcpt !== undefined || body.tenant !== undefined || body.olderMinutes !== undefined || body.state !== undefined;
      if (!narrowed && !body.all) throw badRequest('Choose the entries (ids, sender, rcpt, tenant, olderMinutes or state), or say all.', { field: 'filter' });
      const filter: QueueFilter = { ...filterOf(body), ids: body.ids, states: body.state ? [body.state] : allowed };
      const ids = await deadline(matchingIds(spool, filter));
      if (action === 'delete' && !body.confirm) throw badRequest(`${ids.length} entries match; nothing was deleted. Confirm to delete them.`, { matched: ids.length });
      const progress = new PassThrough();
      reply.type('application/x-ndjson; charset=utf-8');
      void runAction(deps, request, action, ids, filter, body.dsn ?? false, (line) => progress.write(`${JSON.stringify(line)}\n`)).finally(() => progress.end());
      return reply.send(progress);
    },
  );
}

/** Applies the action batch by batch, a progress line after each; a failure mid-way ends with a problem line (batches done stay done). */
async function runAction(deps: PortalDeps, request: FastifyRequest, action: ManageAction, ids: number[], filter: QueueFilter, dsn: boolean, emit: (line: object) => void): Promise<void> {
  let done = 0;
  let changed = 0;
  emit({ done, total: ids.length });
  try {
    await applyInBatches(deps.queue, action, ids, dsn, (n, c) => {
      [done, changed] = [n, c];
      emit({ done, total: ids.length });
    });
    emit({ result: { matched: ids.length, changed } });
  } catch (err) {
    const p = problemOf(err, deps.log);
    emit({ problem: { status: p.status, code: p.code, detail: `${p.message} ${done} of ${ids.length} entries were handled before it.` }, result: { matched: ids.length, changed } });
  } finally {
    const { ids: chosen, ...rest } = filter;
    await deps.audit
      .append({ tenant: null, actor: actorName(request.actor!), ip: request.ip, action: `queue.${action}`, target: chosen ? chosen.join(',').slice(0, 200) : 'filter', detail: { filter: rest, dsn: action === 'delete' ? dsn : undefined, matched: ids.length, changed } })
      .catch((err: unknown) => deps.log.error({ err }, 'could not record a queue change in the audit log'));
  }
}
