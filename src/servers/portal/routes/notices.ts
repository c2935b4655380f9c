import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SERVICES, isPublicNotice, mailNotice, noticeConcerns, type NoticeInput, type ServiceNotice } from '../../../notices/index.js';
import { actorName, tenantScope } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest, notFound } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { text } from './common.js';

const instant = { type: 'string', format: 'date-time' } as const;
const noticeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'title', 'body', 'services', 'startsAt'],
  properties: {
    kind: { type: 'string', enum: ['maintenance', 'incident'] },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    body: text(20_000),
    services: { type: 'array', maxItems: SERVICES.length, items: { type: 'string', enum: SERVICES } },
    tenants: { type: 'array', maxItems: 1000, items: text(63) },
    startsAt: instant,
    endsAt: { anyOf: [instant, { type: 'null' }] },
    serviceStops: { type: 'boolean' },
    mailAdmins: { type: 'boolean' },
  },
} as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

interface Body {
  kind: ServiceNotice['kind'];
  title: string;
  body: string;
  services: ServiceNotice['services'];
  tenants?: string[];
  startsAt: string;
  endsAt?: string | null;
  serviceStops?: boolean;
  /** Also mail it to the administrators of the tenants it concerns (all, when it names none). */
  mailAdmins?: boolean;
}

/** A notice as customers see it: no author, no tenant list. */
export const publicNotice = (n: ServiceNotice) => ({
  id: n.id,
  kind: n.kind,
  title: n.title,
  body: n.body,
  services: n.services,
  startsAt: new Date(n.startsAt).toISOString(),
  endsAt: n.endsAt === null ? null : new Date(n.endsAt).toISOString(),
  serviceStops: n.serviceStops,
  revision: n.revision,
  updatedAt: new Date(n.updatedAt).toISOString(),
  closedAt: n.closedAt === null ? null : new Date(n.closedAt).toISOString(),
});

/** A notice as operators see it: whom it concerns, who wrote it, whether it is a draft or automatic. */
const operatorView = (n: ServiceNotice) => ({ ...publicNotice(n), tenants: n.tenants, author: n.author, draft: n.draft, autoService: n.autoService });

/** Notices: operators write, revise and close them; everyone reads the ones that concern them. */
export function noticeRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const operator = (request: FastifyRequest) => {
    if (request.actor!.kind !== 'operator') throw new ApiProblem(403, 'ERR_FORBIDDEN', 'Notices are written by the provider\'s operators.');
  };
  const input = (b: Body): NoticeInput => {
    const startsAt = Date.parse(b.startsAt);
    const endsAt = b.endsAt ? Date.parse(b.endsAt) : null;
    if (endsAt !== null && endsAt <= startsAt) throw badRequest('A notice must end after it starts.', { field: 'endsAt' });
    const tenants = [...new Set(b.tenants ?? [])];
    const unknown = tenants.filter((t) => !deps.directory.tenant(t));
    if (unknown.length) throw badRequest(`No such tenant: ${unknown.join(', ')}.`, { field: 'tenants' });
    return { kind: b.kind, title: b.title.trim(), body: b.body, services: [...new Set(b.services)], tenants, startsAt, endsAt, serviceStops: b.serviceStops ?? false };
  };
  const open = async () => (await deps.notices.listNotices({ open: true, limit: 50 })).filter((n) => n.endsAt === null || n.endsAt > Date.now());

  // For the login page: what concerns every customer, with no login.
  app.get('/api/v1/notices/current', { schema: { tags: ['notices'], summary: 'Open notices for every customer (no login needed)', security: [] } }, async () => ({
    items: (await open()).filter(isPublicNotice).map(publicNotice),
  }));

  app.get('/api/v1/me/notices', { ...pre, schema: { tags: ['notices'], summary: 'Open notices that concern one\'s company' } }, async (request) => {
    const scope = tenantScope(request.actor!);
    return { items: (await open()).filter((n) => (request.actor!.kind === 'operator' ? !n.draft : noticeConcerns(n, scope))).map(publicNotice) };
  });

  app.get('/api/v1/notices', { ...pre, schema: { tags: ['notices'], summary: 'Every notice of the last 90 days, for operators' } }, async (request) => {
    operator(request);
    const items = await deps.notices.listNotices({ since: Date.now() - 90 * 86_400_000, limit: 500 });
    return { items: items.map(operatorView) };
  });

  app.post<{ Body: Body }>('/api/v1/notices', { ...pre, schema: { tags: ['notices'], summary: 'Publish a notice', body: noticeBody } }, async (request, reply) => {
    operator(request);
    const n = await deps.notices.createNotice(input(request.body), actorName(request.actor!));
    const mailedTo = request.body.mailAdmins ? await mailNotice(deps.noticeMail, n) : 0;
    await deps.audit.append({ tenant: null, actor: actorName(request.actor!), ip: request.ip, action: 'notice.create', target: String(n.id), detail: { title: n.title, kind: n.kind, mailedTo } });
    return reply.code(201).send({ ...operatorView(n), mailedTo });
  });

  app.put<{ Params: { id: number }; Body: Body }>('/api/v1/notices/:id', { ...pre, schema: { tags: ['notices'], summary: 'Revise a notice (marked as updated)', params: idParams, body: noticeBody } }, async (request) => {
    operator(request);
    const n = await deps.notices.reviseNotice(request.params.id, input(request.body));
    if (!n) throw notFound(`Notice ${request.params.id}`);
    const mailedTo = request.body.mailAdmins && !n.draft ? await mailNotice(deps.noticeMail, n) : 0;
    await deps.audit.append({ tenant: null, actor: actorName(request.actor!), ip: request.ip, action: 'notice.revise', target: String(n.id), detail: { revision: n.revision, mailedTo } });
    return { ...operatorView(n), mailedTo };
  });

  app.post<{ Params: { id: number }; Body: { mailAdmins?: boolean } | undefined }>(
    '/api/v1/notices/:id/publish',
    { ...pre, schema: { tags: ['notices'], summary: 'Publish a draft (an automatic incident waiting for an operator)', params: idParams, body: { type: 'object', additionalProperties: false, properties: { mailAdmins: { type: 'boolean' } } } } },
    async (request) => {
      operator(request);
      const n = await deps.notices.publishNotice(request.params.id);
      if (!n) throw notFound(`Notice ${request.params.id}`);
      const mailedTo = request.body?.mailAdmins ? await mailNotice(deps.noticeMail, n) : 0;
      await deps.audit.append({ tenant: null, actor: actorName(request.actor!), ip: request.ip, action: 'notice.publish', target: String(n.id), detail: { mailedTo } });
      return { ...operatorView(n), mailedTo };
    },
  );

  app.post<{ Params: { id: number } }>('/api/v1/notices/:id/close', { ...pre, schema: { tags: ['notices'], summary: 'Close a notice: it moves to the history', params: idParams } }, async (request) => {
    operator(request);
    const n = await deps.notices.closeNotice(request.params.id);
    if (!n) throw notFound(`Notice ${request.params.id}`);
    await deps.audit.append({ tenant: null, actor: actorName(request.actor!), ip: request.ip, action: 'notice.close', target: String(n.id), detail: {} });
    return publicNotice(n);
  });
}
