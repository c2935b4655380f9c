import type { FastifyInstance } from 'fastify';
import type { ApiToken } from '../../../auth/index.js';
import { actorName, isTenantAdmin, tenantScope } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest, notFound } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { text } from './common.js';

const view = (t: ApiToken) => ({ id: t.id, name: t.name, tenant: t.tenant, createdBy: t.createdBy, createdAt: new Date(t.createdAt).toISOString(), lastUsedAt: t.lastUsedAt === null ? null : new Date(t.lastUsedAt).toISOString() });

/** API tokens for a tenant's automation, made and revoked by its administrators (operators: for any tenant, or all). */
export function tokenRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const admins = (actor: Parameters<typeof isTenantAdmin>[0]) => {
    // A token does not make tokens: a leaked one cannot make itself a spare.
    if (!isTenantAdmin(actor) || actor.kind === 'token') throw new ApiProblem(403, 'ERR_FORBIDDEN', 'API tokens are made by tenant administrators and operators.');
  };

  app.get('/api/v1/tokens', { ...pre, schema: { tags: ['tokens'], summary: 'The API tokens of one\'s tenant (operators: all)' } }, async (request) => {
    admins(request.actor!);
    return { items: (await deps.tokens.listTokens(tenantScope(request.actor!))).map(view) };
  });

  app.post<{ Body: { name: string; tenant?: string | null } }>(
    '/api/v1/tokens',
    {
      ...pre,
      schema: {
        tags: ['tokens'],
        summary: 'Make an API token; its secret is shown once. Use it as "Authorization: Bearer <token>".',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, tenant: { anyOf: [text(63), { type: 'null' }] } } },
      },
    },
    async (request, reply) => {
      const actor = request.actor!;
      admins(actor);
      const own = tenantScope(actor);
      const tenant = own ?? request.body.tenant ?? null;
      if (own !== undefined && request.body.tenant !== undefined && request.body.tenant !== own) throw notFound(`The tenant ${request.body.tenant}`);
      if (tenant !== null && !deps.directory.tenant(tenant)) throw badRequest(`There is no tenant ${tenant}.`, { field: 'tenant' });
      const { token, record } = await deps.tokens.createToken({ name: request.body.name.trim(), tenant, createdBy: actorName(actor) });
      await deps.audit.append({ tenant, actor: actorName(actor), ip: request.ip, action: 'token.create', target: record.id, detail: { name: record.name } });
      return reply.code(201).send({ ...view(record), token });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    { ...pre, schema: { tags: ['tokens'], summary: 'Revoke an API token at once', params: { type: 'object', required: ['id'], properties: { id: text(40) } } } },
    async (request, reply) => {
      const actor = request.actor!;
      admins(actor);
      if (!(await deps.tokens.revokeToken(request.params.id, tenantScope(actor)))) throw notFound(`The token ${request.params.id}`);
      await deps.audit.append({ tenant: tenantScope(actor) ?? null, actor: actorName(actor), ip: request.ip, action: 'token.revoke', target: request.params.id, detail: {} });
      return reply.code(204).send();
    },
  );
}
