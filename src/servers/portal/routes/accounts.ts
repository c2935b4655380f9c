import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACCOUNT_ROLES, generatePassword, hashPassword, passwordProblem, type AccountPatch, type AccountRecord, type AccountRole } from '../../../directory/index.js';
import { withDeadline } from '../../../mailstore/index.js';
import { actorName, isTenantAdmin, manageableDomains, requireManaged, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest, forbidden } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { accountView, addressParam, managedAccount, text, usageOf } from './common.js';

const SORTS = ['address', 'name', 'department', 'quota', 'created', 'lastLogin'] as const;
type Sort = (typeof SORTS)[number];

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    domain: text(253),
    q: text(200),
    sort: { type: 'string', enum: SORTS },
    order: { type: 'string', enum: ['asc', 'desc'] },
    page: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    pageSize: { type: 'integer', minimum: 1, maximum: 500 },
  },
} as const;

const profile = {
  name: text(200),
  department: text(200),
  quotaBytes: { type: 'integer', minimum: 0, maximum: 2 ** 50 },
  role: { type: 'string', enum: ACCOUNT_ROLES },
  disabled: { type: 'boolean' },
  mustChangePassword: { type: 'boolean' },
} as const;

const newAccount = {
  type: 'object',
  required: ['address'],
  additionalProperties: false,
  properties: { address: text(320), password: text(1024), ...profile },
} as const;

const patchAccount = { type: 'object', additionalProperties: false, minProperties: 1, properties: profile } as const;

const passwordReset = {
  type: 'object',
  additionalProperties: false,
  properties: { password: text(1024), mustChangePassword: { type: 'boolean' } },
} as const;

const addressParams = { type: 'object', required: ['address'], properties: { address: text(320) } } as const;

interface Profile {
  name?: string;
  department?: string;
  quotaBytes?: number;
  role?: AccountRole;
  disabled?: boolean;
  mustChangePassword?: boolean;
}

/** A domain administrator may not make tenant administrators (no escalation past one's own role). */
function checkRole(actor: Actor, role: AccountRole | undefined): void {
  if (role === 'tenant-admin' && !isTenantAdmin(actor)) {
    throw forbidden('Only a tenant administrator can make another one.');
  }
}

function choosePassword(deps: PortalDeps, address: string, given: string | undefined): { value: string; generated: boolean } {
  if (given === undefined || given === '') return { value: generatePassword(), generated: true };
  const problem = passwordProblem(given, address, deps.options.minPasswordLength);
  if (problem) throw badRequest(problem, { field: 'password' });
  return { value: given, generated: false };
}

const compare: Record<Sort, (a: AccountRecord, b: AccountRecord, last: Map<string, number>) => number> = {
  address: (a, b) => a.address.localeCompare(b.address),
  name: (a, b) => a.name.localeCompare(b.name, 'ja') || a.address.localeCompare(b.address),
  department: (a, b) => a.department.localeCompare(b.department, 'ja') || a.address.localeCompare(b.address),
  quota: (a, b) => a.quotaBytes - b.quotaBytes || a.address.localeCompare(b.address),
  created: (a, b) => a.createdAt - b.createdAt || a.id - b.id,
  lastLogin: (a, b, last) => (last.get(a.address) ?? 0) - (last.get(b.address) ?? 0) || a.address.localeCompare(b.address),
};

/** The administrators' account routes: list, add, edit, disable, remove, reset password, empty. */
export function accountRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const audit = (request: FastifyRequest, action: string, target: string, tenant: string, detail: Record<string, unknown> = {}) =>
    deps.audit.append({ tenant, actor: actorName(request.actor!), ip: request.ip, action, target, detail });

  const managed = async (request: FastifyRequest, raw: string) => {
    const { account, domain } = await managedAccount(deps, request.actor!, raw);
    return { account, tenant: domain.tenant };
  };

  const notSelf = (request: FastifyRequest, address: string, what: string) => {
    const actor = request.actor!;
    if (actor.kind === 'account' && actor.account.address === address) throw new ApiProblem(409, 'ERR_SELF', `You cannot ${what} your own account; ask another administrator.`);
  };

  app.get<{ Querystring: { domain?: string; q?: string; sort?: Sort; order?: 'asc' | 'desc'; page?: number; pageSize?: number } }>(
    '/api/v1/accounts',
    { ...pre, schema: { summary: 'Accounts of the domains one manages: search, sort, paging, usage', tags: ['accounts'], querystring: listQuery } },
    async (request) => {
      const { q, sort = 'address', order = 'asc', page = 1, pageSize = 50 } = request.query;
      const domains = request.query.domain
        ? [requireManaged(request.actor!, deps.directory, `x@${request.query.domain.toLowerCase()}`, `The domain ${request.query.domain}`)]
        : manageableDomains(request.actor!, deps.directory);
      let accounts = (await Promise.all(domains.map((d) => deps.store.listAccounts(d.name)))).flat();
      if (q) {
        const needle = q.toLowerCase();
        accounts = accounts.filter((a) => a.address.includes(needle) || a.name.toLowerCase().includes(needle) || a.department.toLowerCase().includes(needle));
      }
      const logins = await deps.sessions.lastLogins(sort === 'lastLogin' ? accounts.map((a) => a.address) : []);
      const lastAt = new Map([...logins].map(([k, v]) => [k, v.at]));
      accounts.sort((a, b) => compare[sort](a, b, lastAt) * (order === 'desc' ? -1 : 1));
      const items = accounts.slice((page - 1) * pageSize, page * pageSize);
      const [usage, last] = await Promise.all([usageOf(deps, items), deps.sessions.lastLogins(items.map((a) => a.address))]);
      return {
        items: items.map((a) => accountView(a, usage.get(a.id), last.get(a.address))),
        total: accounts.length,
        page,
        pageSize,
        usageUnavailable: items.some((a) => usage.get(a.id) === null),
      };
    },
  );

  app.post<{ Body: { address: string; password?: string } & Profile }>(
    '/api/v1/accounts',
    { ...pre, schema: { summary: 'Add an account; without a password one is generated and shown once', tags: ['accounts'], body: newAccount } },
    async (request, reply) => {
      const { address: raw, password: given, ...rest } = request.body;
      const address = addressParam(raw);
      const domain = requireManaged(request.actor!, deps.directory, address, `The domain of ${address}`);
      checkRole(request.actor!, rest.role);
      const pw = choosePassword(deps, address, given);
      const account = await deps.store.addAccount({
        address,
        passwordHash: await hashPassword(pw.value),
        quotaBytes: rest.quotaBytes ?? 0,
        name: rest.name?.trim(),
        department: rest.department?.trim(),
        role: rest.role,
        disabled: rest.disabled,
        // A password someone else chose is changed at the first login, unless said otherwise.
        mustChangePassword: rest.mustChangePassword ?? pw.generated,
      });
      await audit(request, 'account.add', address, domain.tenant, { role: account.role, quotaBytes: account.quotaBytes });
      await deps.directory.refresh();
      return reply.code(201).send({ account: accountView(account, null, undefined), ...(pw.generated ? { password: pw.value } : {}) });
    },
  );

  app.get<{ Params: { address: string } }>(
    '/api/v1/accounts/:address',
    { ...pre, schema: { summary: 'One account, with its usage and forwarding', tags: ['accounts'], params: addressParams } },
    async (request) => {
      const { account } = await managed(request, request.params.address);
      const [usage, last, forwards] = await Promise.all([usageOf(deps, [account]), deps.sessions.lastLogins([account.address]), deps.store.listForwards(account.domain)]);
      const forward = forwards.find((f) => f.account === account.address);
      return { ...accountView(account, usage.get(account.id), last.get(account.address)), forward: forward ? { targets: forward.targets, keepCopy: forward.keepCopy, enabled: forward.enabled, conditions: forward.conditions } : null };
    },
  );

  app.patch<{ Params: { address: string }; Body: Profile }>(
    '/api/v1/accounts/:address',
    { ...pre, schema: { summary: 'Change name, department, quota, role or state', tags: ['accounts'], params: addressParams, body: patchAccount } },
    async (request) => {
      const { account, tenant } = await managed(request, request.params.address);
      const patch: AccountPatch = { ...request.body, name: request.body.name?.trim(), department: request.body.department?.trim() };
      if (patch.disabled === true) notSelf(request, account.address, 'disable');
      if (patch.role !== undefined && patch.role !== account.role) {
        notSelf(request, account.address, 'change the role of');
        checkRole(request.actor!, patch.role);
        checkRole(request.actor!, account.role);
      }
      const updated = await deps.store.updateAccount(account.address, patch);
      if (patch.disabled) await deps.sessions.removeSubject(account.address);
      await audit(request, 'account.update', account.address, tenant, { ...request.body });
      await deps.directory.refresh();
      return accountView(updated, undefined, undefined);
    },
  );

  app.delete<{ Params: { address: string } }>(
    '/api/v1/accounts/:address',
    { ...pre, schema: { summary: 'Remove an account (its forwarding too; mail already stored is kept)', tags: ['accounts'], params: addressParams } },
    async (request, reply) => {
      const { account, tenant } = await managed(request, request.params.address);
      notSelf(request, account.address, 'remove');
      checkRole(request.actor!, account.role);
      await deps.store.removeAccount(account.address);
      await deps.sessions.removeSubject(account.address);
      await audit(request, 'account.remove', account.address, tenant);
      await deps.directory.refresh();
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { address: string }; Body: { password?: string; mustChangePassword?: boolean } }>(
    '/api/v1/accounts/:address/password',
    { ...pre, schema: { summary: 'Reset a password without knowing the old one; without one given, one is generated', tags: ['accounts'], params: addressParams, body: passwordReset } },
    async (request) => {
      const { account, tenant } = await managed(request, request.params.address);
      checkRole(request.actor!, account.role);
      const pw = choosePassword(deps, account.address, request.body.password);
      const mustChange = request.body.mustChangePassword ?? true;
      await deps.store.setPassword(account.address, await hashPassword(pw.value), mustChange);
      await deps.sessions.removeSubject(account.address, request.portalSession?.token);
      await audit(request, 'account.password-reset', account.address, tenant, { mustChangePassword: mustChange });
      await deps.directory.refresh();
      return { mustChangePassword: mustChange, ...(pw.generated ? { password: pw.value } : {}) };
    },
  );

  app.post<{ Params: { address: string } }>(
    '/api/v1/accounts/:address/empty',
    { ...pre, schema: { summary: 'Delete every message in the mailbox', tags: ['accounts'], params: addressParams } },
    async (request) => {
      const { account, tenant } = await managed(request, request.params.address);
      const deadline = deps.options.storeTimeoutMs * 5;
      const unavailable = () => new ApiProblem(503, 'ERR_STORE_UNAVAILABLE', 'The mailbox store is temporarily unavailable; nothing was deleted yet. Please try again later.');
      const entries = await withDeadline(deps.mailStore.list(account.id), deps.options.storeTimeoutMs).catch(() => {
        throw unavailable();
      });
      const removed = await withDeadline(deps.mailStore.expunge(account.id, entries.map((e) => e.uid)), deadline).catch(() => {
        throw unavailable();
      });
      await audit(request, 'account.empty', account.address, tenant, { messages: removed });
      return { removed };
    },
  );
}
