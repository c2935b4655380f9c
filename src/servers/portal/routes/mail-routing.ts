import { randomUUID } from 'node:crypto';
import { appleProfile } from '../../../autoconfig/index.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { domainOf } from '../../../mail/index.js';
import { withDeadline } from '../../../mailstore/index.js';
import type { ForwardConditions, ForwardRecord } from '../../../directory/index.js';
import { actorName, isTenantAdmin, manageableDomains, requireManaged, tenantScope } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { requireForwardTargets } from './policies.js';
import { accountView, addressList, aliasParam, managedAccount, targetsParam, text, usageOf } from './common.js';

const forwardBody = {
  type: 'object',
  required: ['targets'],
  additionalProperties: false,
  properties: {
    targets: addressList,
    keepCopy: { type: 'boolean' },
    enabled: { type: 'boolean' },
    conditions: {
      anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, properties: { subjectContains: text(200), fromContains: text(200) } }],
    },
  },
} as const;

const aliasBody = { type: 'object', required: ['targets'], additionalProperties: false, properties: { targets: addressList } } as const;
const forwardView = (f: ForwardRecord | undefined) =>
  f ? { targets: f.targets, keepCopy: f.keepCopy, enabled: f.enabled, conditions: f.conditions } : { targets: [], keepCopy: true, enabled: false, conditions: null };

const addressParams = { type: 'object', required: ['address'], properties: { address: text(320) } } as const;

/** Forwarding (by administrators for any of their users, and by each user), aliases, domains, the user's own page. */
export function mailRoutingRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const audit = (request: FastifyRequest, action: string, target: string, tenant: string, detail: Record<string, unknown> = {}) =>
    deps.audit.append({ tenant, actor: actorName(request.actor!), ip: request.ip, action, target, detail });

  const forwardOf = async (address: string) => (await deps.store.listForwards(domainOf(address))).find((f) => f.account === address);

  const setForward = async (request: FastifyRequest<{ Body: { targets: string[]; keepCopy?: boolean; enabled?: boolean; conditions?: Partial<ForwardConditions> | null } }>, address: string, tenant: string) => {
    const targets = targetsParam(request.body.targets);
    if (targets.includes(address)) throw new ApiProblem(400, 'ERR_BAD_REQUEST', 'An account cannot forward to itself; use "keep a copy" instead.', { field: 'targets' });
    const c = request.body.conditions;
    const conditions = c && (c.subjectContains?.trim() || c.fromContains?.trim()) ? { subjectContains: c.subjectContains?.trim() ?? '', fromContains: c.fromContains?.trim() ?? '' } : null;
    const f = await deps.store.setForward(address, targets, request.body.keepCopy ?? false, request.body.enabled ?? true, conditions);
    await audit(request, 'forward.set', address, tenant, { targets: f.targets, keepCopy: f.keepCopy, enabled: f.enabled, conditions: f.conditions });
    await deps.directory.refresh();
    return forwardView(f);
  };

  const removeForward = async (request: FastifyRequest, address: string, tenant: string) => {
    if (await forwardOf(address)) {
      await deps.store.removeForward(address);
      await audit(request, 'forward.remove', address, tenant);
      await deps.directory.refresh();
    }
  };

  // Administrators: any of their users' forwarding, without the user's password.
  app.get<{ Params: { address: string } }>('/api/v1/accounts/:address/forward', { ...pre, schema: { tags: ['forwarding'], summary: 'An account\'s forwarding', params: addressParams } }, async (request) => {
    const { account } = await managedAccount(deps, request.actor!, request.params.address);
    return forwardView(await forwardOf(account.address));
  });

  app.put<{ Params: { address: string }; Body: { targets: string[]; keepCopy?: boolean; enabled?: boolean; conditions?: Partial<ForwardConditions> | null } }>(
    '/api/v1/accounts/:address/forward',
    { ...pre, schema: { tags: ['forwarding'], summary: 'Set an account\'s forwarding', params: addressParams, body: forwardBody } },
    async (request) => {
      const { account, domain } = await managedAccount(deps, request.actor!, request.params.address);
      return setForward(request, account.address, domain.tenant);
    },
  );

  app.delete<{ Params: { address: string } }>('/api/v1/accounts/:address/forward', { ...pre, schema: { tags: ['forwarding'], summary: 'End an account\'s forwarding', params: addressParams } }, async (request, reply) => {
    const { account, domain } = await managedAccount(deps, request.actor!, request.params.address);
    await removeForward(request, account.address, domain.tenant);
    return reply.code(204).send();
  });

  /** Mail for the user (their address and the aliases that reach them) waiting after a failed attempt; null when the spool does not answer in time. */
  const waitingFor = async (address: string) => {
    const aliases = (await deps.store.listAliases(domainOf(address))).filter((a) => a.targets.includes(address)).map((a) => a.address);
    try {
      const w = await withDeadline(deps.spool.waitingFor([address, ...aliases]), deps.options.storeTimeoutMs);
      return { count: w.count, oldestSeconds: w.oldestReceivedAt === null ? 0 : Math.round((Date.now() - w.oldestReceivedAt) / 1000) };
    } catch {
      return null;
    }
  };

  // The user's own menu.
  const me = (request: FastifyRequest) => {
    const actor = request.actor!;
    if (actor.kind !== 'account') throw new ApiProblem(403, 'ERR_FORBIDDEN', 'Operators and API tokens have no mailbox; this menu is for accounts.');
    return actor;
  };

  // RFC 8314 client setup for Apple's Mail: one download, the password asked once by the device.
  app.get('/api/v1/me/apple-profile', { ...pre, schema: { tags: ['me'], summary: 'A configuration profile that sets up one\'s account in Apple Mail (iPhone, iPad, Mac)' } }, async (request, reply) => {
    const actor = me(request);
    const profile = appleProfile(actor.account.address, actor.account.name, deps.options.clients, randomUUID);
    return reply
      .header('content-type', 'application/x-apple-aspen-config')
      .header('content-disposition', `attachment; filename="${actor.account.address.replace(/[^A-Za-z0-9@._-]/g, '_')}.mobileconfig"`)
      .send(profile);
  });

  app.get('/api/v1/me', { ...pre, schema: { tags: ['me'], summary: 'One\'s own account: usage against quota, forwarding' } }, async (request) => {
    const actor = me(request);
    const [usage, last, forward, waiting] = await Promise.all([usageOf(deps, [actor.account]), deps.sessions.lastLogins([actor.account.address]), forwardOf(actor.account.address), waitingFor(actor.account.address)]);
    return {
      ...accountView(actor.account, usage.get(actor.account.id), last.get(actor.account.address)),
      forward: forward ? forwardView(forward) : null,
      policy: deps.directory.policyFor(actor.account.address),
      waiting,
    };
  });

  app.put<{ Body: { targets: string[]; keepCopy?: boolean; enabled?: boolean; conditions?: Partial<ForwardConditions> | null } }>('/api/v1/me/forward', { ...pre, schema: { tags: ['me'], summary: 'Set one\'s own forwarding', body: forwardBody } }, async (request) => {
    const actor = me(request);
    requireForwardTargets(actor, deps, targetsParam(request.body.targets));
    return setForward(request, actor.account.address, actor.tenant);
  });

  app.delete('/api/v1/me/forward', { ...pre, schema: { tags: ['me'], summary: 'End one\'s own forwarding' } }, async (request, reply) => {
    const actor = me(request);
    await removeForward(request, actor.account.address, actor.tenant);
    return reply.code(204).send();
  });

  // Aliases, catch-alls included.
  app.get<{ Querystring: { domain?: string } }>(
    '/api/v1/aliases',
    { ...pre, schema: { tags: ['aliases'], summary: 'Aliases of the domains one manages', querystring: { type: 'object', additionalProperties: false, properties: { domain: text(253) } } } },
    async (request) => {
      const domains = request.query.domain
        ? [requireManaged(request.actor!, deps.directory, `x@${request.query.domain.toLowerCase()}`, `The domain ${request.query.domain}`)]
        : manageableDomains(request.actor!, deps.directory);
      const aliases = (await Promise.all(domains.map((d) => deps.store.listAliases(d.name)))).flat();
      return { items: aliases.map((a) => ({ address: a.address, domain: a.domain, targets: a.targets, catchAll: a.address.startsWith('@') })) };
    },
  );

  app.put<{ Params: { address: string }; Body: { targets: string[] } }>(
    '/api/v1/aliases/:address',
    { ...pre, schema: { tags: ['aliases'], summary: 'Create an alias (or @domain for a catch-all) or replace its targets', params: addressParams, body: aliasBody } },
    async (request) => {
      const address = aliasParam(request.params.address);
      const domain = requireManaged(request.actor!, deps.directory, address, `The domain of ${address}`);
      const a = await deps.store.setAlias(address, targetsParam(request.body.targets));
      await audit(request, 'alias.set', address, domain.tenant, { targets: a.targets });
      await deps.directory.refresh();
      return { address: a.address, domain: a.domain, targets: a.targets, catchAll: a.address.startsWith('@') };
    },
  );

  app.delete<{ Params: { address: string } }>('/api/v1/aliases/:address', { ...pre, schema: { tags: ['aliases'], summary: 'Remove an alias', params: addressParams } }, async (request, reply) => {
    const address = aliasParam(request.params.address);
    const domain = requireManaged(request.actor!, deps.directory, address, `The alias ${address}`);
    await deps.store.removeAlias(address);
    await audit(request, 'alias.remove', address, domain.tenant);
    await deps.directory.refresh();
    return reply.code(204).send();
  });

  app.get('/api/v1/domains', { ...pre, schema: { tags: ['domains'], summary: 'The domains one manages' } }, async (request) => {
    const domains = manageableDomains(request.actor!, deps.directory);
    const counts = await Promise.all(domains.map(async (d) => [(await deps.store.listAccounts(d.name)).length, (await deps.store.listAliases(d.name)).length] as const));
    return { items: domains.map((d, i) => ({ name: d.name, tenant: d.tenant, accounts: counts[i]![0], aliases: counts[i]![1], retentionDays: d.retentionDays, createdAt: new Date(d.createdAt).toISOString() })) };
  });

  app.get<{ Querystring: { limit?: number; before?: number } }>(
    '/api/v1/audit',
    {
      ...pre,
      schema: {
        tags: ['audit'],
        summary: 'Changes made through the portal: who, when, from where (tenant administrators see their tenant\'s, operators all)',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500 }, before: { type: 'integer', minimum: 1 } } },
      },
    },
    async (request) => {
      const actor = request.actor!;
      if (!isTenantAdmin(actor)) throw new ApiProblem(403, 'ERR_FORBIDDEN', 'The audit log is for tenant administrators and operators.');
      const entries = await deps.audit.list({ tenant: tenantScope(actor), limit: request.query.limit ?? 100, beforeId: request.query.before });
      return { items: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    },
  );
}
