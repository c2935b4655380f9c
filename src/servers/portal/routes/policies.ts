import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OPEN_POLICY, parseCidr, type AccessPolicy } from '../../../directory/index.js';
import { actorName, requireManaged, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { managedAccount, text } from './common.js';

const policyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['changePassword', 'forwardOutside', 'autoReply', 'pop3', 'imap', 'submission', 'allowFrom'],
  properties: {
    changePassword: { type: 'boolean' },
    forwardOutside: { type: 'boolean' },
    autoReply: { type: 'boolean' },
    pop3: { type: 'boolean' },
    imap: { type: 'boolean' },
    submission: { type: 'boolean' },
    allowFrom: { type: 'array', maxItems: 50, items: text(64) },
  },
} as const;

const domainParams = { type: 'object', required: ['domain'], properties: { domain: text(253) } } as const;
const addressParams = { type: 'object', required: ['address'], properties: { address: text(320) } } as const;

/** The allow-list as given, each entry checked and trimmed; a 400 naming the bad one. */
function checkedPolicy(p: AccessPolicy): AccessPolicy {
  const allowFrom = p.allowFrom.map((n) => n.trim()).filter(Boolean);
  for (const net of allowFrom) {
    try {
      parseCidr(net);
    } catch (err) {
      throw badRequest(`${(err as Error).message}.`, { field: 'allowFrom' });
    }
  }
  return { ...p, allowFrom };
}

/** What a user may refuse to be let do: enforced on the user's own menu; administrators are not bound by it. */
export function requirePermission(actor: Actor, deps: PortalDeps, what: 'changePassword' | 'autoReply'): void {
  if (actor.kind !== 'account' || actor.account.role !== 'user') return;
  // A password the administrator set must be changeable, or the user could never log in.
  if (what === 'changePassword' && actor.account.mustChangePassword) return;
  if (!deps.directory.policyFor(actor.account.address)[what]) {
    throw new ApiProblem(403, 'ERR_NOT_PERMITTED', what === 'changePassword' ? 'Your administrator has not allowed you to change your password here; ask them.' : 'Your administrator has not allowed you to set an automatic reply; ask them.');
  }
}

/** Forwarding to outside the user's company needs the forwardOutside permission. */
export function requireForwardTargets(actor: Actor, deps: PortalDeps, targets: readonly string[]): void {
  if (actor.kind !== 'account' || actor.account.role !== 'user' || deps.directory.policyFor(actor.account.address).forwardOutside) return;
  const own = new Set(deps.directory.domains(actor.tenant).map((d) => d.name));
  const outside = targets.filter((t) => !own.has(t.slice(t.lastIndexOf('@') + 1)));
  if (outside.length > 0) {
    throw new ApiProblem(403, 'ERR_NOT_PERMITTED', `Your administrator allows forwarding only to addresses of your company; not to ${outside.join(', ')}.`, { field: 'targets' });
  }
}

/** Administrators set what their users may change, per domain and per account. */
export function policyRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const save = async (request: FastifyRequest, scope: string, tenant: string, policy: AccessPolicy | undefined) => {
    await deps.store.setPolicy(scope, policy && checkedPolicy(policy));
    await deps.audit.append({ tenant, actor: actorName(request.actor!), ip: request.ip, action: policy ? 'policy.set' : 'policy.remove', target: scope, detail: policy ? { ...policy } : {} });
    await deps.directory.refresh();
  };
  const domainOf = (request: FastifyRequest<{ Params: { domain: string } }>) =>
    requireManaged(request.actor!, deps.directory, `x@${request.params.domain.toLowerCase()}`, `The domain ${request.params.domain}`);
  const accountOf = async (request: FastifyRequest<{ Params: { address: string } }>) => {
    const { account, domain } = await managedAccount(deps, request.actor!, request.params.address);
    return { address: account.address, domain };
  };

  app.get<{ Params: { domain: string } }>('/api/v1/domains/:domain/policy', { ...pre, schema: { tags: ['domains'], summary: 'What the domain\'s users may change, and where they may log in from', params: domainParams } }, async (request) => {
    const d = domainOf(request);
    return deps.directory.policyOf(`domain:${d.name}`) ?? OPEN_POLICY;
  });

  app.put<{ Params: { domain: string }; Body: AccessPolicy }>(
    '/api/v1/domains/:domain/policy',
    { ...pre, schema: { tags: ['domains'], summary: 'Set what the domain\'s users may change', params: domainParams, body: policyBody } },
    async (request) => {
      const d = domainOf(request);
      await save(request, `domain:${d.name}`, d.tenant, request.body);
      return deps.directory.policyOf(`domain:${d.name}`);
    },
  );

  app.put<{ Params: { domain: string }; Body: { days: number | null } }>(
    '/api/v1/domains/:domain/retention',
    {
      ...pre,
      schema: {
        tags: ['domains'],
        summary: 'Delete mail older than this many days from the domain\'s mailboxes (null: keep it, the default)',
        params: domainParams,
        body: { type: 'object', required: ['days'], additionalProperties: false, properties: { days: { type: ['integer', 'null'], minimum: 1, maximum: 3650 } } },
      },
    },
    async (request) => {
      const d = domainOf(request);
      await deps.store.setDomainRetention(d.name, request.body.days);
      await deps.audit.append({ tenant: d.tenant, actor: actorName(request.actor!), ip: request.ip, action: 'retention.set', target: d.name, detail: { days: request.body.days } });
      await deps.directory.refresh();
      return { days: request.body.days };
    },
  );

  app.get<{ Params: { address: string } }>('/api/v1/accounts/:address/policy', { ...pre, schema: { tags: ['accounts'], summary: 'An account\'s permissions: its own, or inherited from its domain', params: addressParams } }, async (request) => {
    const { address } = await accountOf(request);
    const own = deps.directory.policyOf(`account:${address}`);
    return { ...(own ?? deps.directory.policyFor(address)), inherited: own === undefined };
  });

  app.put<{ Params: { address: string }; Body: AccessPolicy }>(
    '/api/v1/accounts/:address/policy',
    { ...pre, schema: { tags: ['accounts'], summary: 'Give an account its own permissions', params: addressParams, body: policyBody } },
    async (request) => {
      const { address, domain } = await accountOf(request);
      await save(request, `account:${address}`, domain.tenant, request.body);
      return { ...deps.directory.policyFor(address), inherited: false };
    },
  );

  app.delete<{ Params: { address: string } }>('/api/v1/accounts/:address/policy', { ...pre, schema: { tags: ['accounts'], summary: 'Let an account follow its domain\'s permissions again', params: addressParams } }, async (request, reply) => {
    const { address, domain } = await accountOf(request);
    await save(request, `account:${address}`, domain.tenant, undefined);
    return reply.code(204).send();
  });
}
