import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AutoReplyRecord } from '../../../directory/index.js';
import { domainOf } from '../../../mail/index.js';
import { actorName } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { managedAccount, text } from './common.js';
import { requirePermission } from './policies.js';

const instant = { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] } as const;

const autoReplyBody = {
  type: 'object',
  required: ['enabled', 'subject', 'body'],
  additionalProperties: false,
  properties: { enabled: { type: 'boolean' }, subject: text(200), body: text(10_000), startsAt: instant, endsAt: instant },
} as const;

const addressParams = { type: 'object', required: ['address'], properties: { address: text(320) } } as const;

interface Body {
  enabled: boolean;
  subject: string;
  body: string;
  startsAt?: string | null;
  endsAt?: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Automatic replies: each user's own, and an administrator's for any of their users. */
export function autoReplyRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const intervalDays = deps.options.autoReplyIntervalDays;
  const view = (r: AutoReplyRecord | undefined) =>
    r ? { enabled: r.enabled, subject: r.subject, body: r.body, startsAt: iso(r.startsAt), endsAt: iso(r.endsAt), intervalDays } : { enabled: false, subject: '', body: '', startsAt: null, endsAt: null, intervalDays };
  const pre = { preHandler: authenticate(deps) };
  const current = async (address: string) => (await deps.store.listAutoReplies(domainOf(address))).find((r) => r.account === address);

  const save = async (request: FastifyRequest<{ Body: Body }>, address: string, tenant: string) => {
    const b = request.body;
    const startsAt = b.startsAt ? Date.parse(b.startsAt) : null;
    const endsAt = b.endsAt ? Date.parse(b.endsAt) : null;
    if (startsAt !== null && endsAt !== null && endsAt <= startsAt) throw badRequest('The end of the automatic reply must come after its start.', { field: 'endsAt' });
    if (b.enabled && b.body.trim() === '') throw badRequest('Write the text of the automatic reply.', { field: 'body' });
    const r = await deps.store.setAutoReply(address, { enabled: b.enabled, subject: b.subject.trim(), body: b.body, startsAt, endsAt });
    await deps.audit.append({ tenant, actor: actorName(request.actor!), ip: request.ip, action: 'autoreply.set', target: address, detail: { enabled: r.enabled, startsAt: b.startsAt ?? null, endsAt: b.endsAt ?? null } });
    await deps.directory.refresh();
    return view(r);
  };

  const own = (request: FastifyRequest) => {
    const actor = request.actor!;
    if (actor.kind !== 'account') throw new ApiProblem(403, 'ERR_FORBIDDEN', 'Operators and API tokens have no mailbox; this menu is for accounts.');
    return actor;
  };

  app.get('/api/v1/me/autoreply', { ...pre, schema: { tags: ['me'], summary: 'One\'s own automatic reply' } }, async (request) => view(await current(own(request).account.address)));

  app.put<{ Body: Body }>('/api/v1/me/autoreply', { ...pre, schema: { tags: ['me'], summary: 'Set one\'s own automatic reply (RFC 3834: once per sender per interval)', body: autoReplyBody } }, async (request) => {
    const actor = own(request);
    requirePermission(actor, deps, 'autoReply');
    return save(request, actor.account.address, actor.tenant);
  });

  const managed = async (request: FastifyRequest<{ Params: { address: string } }>) => {
    const { account, domain } = await managedAccount(deps, request.actor!, request.params.address);
    return { address: account.address, tenant: domain.tenant };
  };

  app.get<{ Params: { address: string } }>('/api/v1/accounts/:address/autoreply', { ...pre, schema: { tags: ['accounts'], summary: 'An account\'s automatic reply', params: addressParams } }, async (request) =>
    view(await current((await managed(request)).address)),
  );

  app.put<{ Params: { address: string }; Body: Body }>(
    '/api/v1/accounts/:address/autoreply',
    { ...pre, schema: { tags: ['accounts'], summary: 'Set an account\'s automatic reply, without the user\'s password', params: addressParams, body: autoReplyBody } },
    async (request) => {
      const { address, tenant } = await managed(request);
      return save(request, address, tenant);
    },
  );
}
