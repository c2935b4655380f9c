import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { passwordProblem, hashPassword } from '../../../directory/index.js';
import { actorName, isAdmin, manageableDomains, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest } from '../problems.js';
import { requirePermission } from './policies.js';
import { checkSecondFactor, totpSubject } from './totp.js';
import { authenticate, clearSessionCookie, setSessionCookie } from '../session-auth.js';

const credentials = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 }, totp: { type: 'string', maxLength: 10 } },
} as const;

const passwordChange = {
  type: 'object',
  required: ['current', 'password'],
  additionalProperties: false,
  properties: { current: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: 1024 } },
} as const;

/** What the UI needs to know about who is logged in. */
export function whoAmI(actor: Actor, deps: PortalDeps, csrf: string) {
  const domains = manageableDomains(actor, deps.directory).map((d) => d.name);
  if (actor.kind === 'operator') return { kind: 'operator', login: actor.login, role: 'operator', admin: true, domains, csrf, mustChangePassword: false };
  if (actor.kind === 'token') return { kind: 'token', name: actor.name, tenant: actor.tenant, role: 'token', admin: true, domains, csrf, mustChangePassword: false };
  const a = actor.account;
  return { kind: 'account', address: a.address, name: a.name, role: a.role, tenant: actor.tenant, admin: isAdmin(actor), domains, csrf, mustChangePassword: a.mustChangePassword };
}

export function sessionRoutes(app: FastifyInstance, deps: PortalDeps): void {
  app.post<{ Body: { username: string; password: string; totp?: string } }>(
    '/api/v1/session',
    { schema: { summary: 'Log in with a mail address (or user%domain) and password; operators with their login name', tags: ['session'], body: credentials } },
    async (request, reply) => {
      const { username, password } = request.body;
      const operator = !username.includes('@') && !username.includes('%');
      const result = operator ? await deps.authenticator.loginOperator(username, password, request.ip) : await deps.authenticator.login(username, password, request.ip);
      deps.metrics.logins.inc({ protocol: 'portal', result: result.ok ? 'ok' : result.reason });
      if (!result.ok) {
        deps.log.info({ user: username, ip: request.ip, reason: result.reason }, 'portal login failed');
        if (result.reason === 'unavailable') throw new ApiProblem(503, 'ERR_AUTH_UNAVAILABLE', 'The account directory is not available yet; please try again in a minute.');
        if (result.reason === 'rate-limited') {
          reply.header('Retry-After', Math.ceil(result.retryAfterMs / 1000));
          throw new ApiProblem(429, 'ERR_AUTH_RATE_LIMITED', `Too many failed logins; try again in ${Math.ceil(result.retryAfterMs / 60000)} minute(s).`);
        }
        if (result.reason === 'disabled') throw new ApiProblem(403, 'ERR_ACCOUNT_DISABLED', 'This account is disabled; ask your administrator.');
        throw new ApiProblem(401, 'ERR_AUTH_FAILED', 'The address or the password is wrong.');
      }
      const subject = 'operator' in result ? result.operator.login : result.account.address;
      const actor: Actor = 'operator' in result ? { kind: 'operator', login: subject } : { kind: 'account', account: result.account, tenant: deps.directory.tenantOf(result.account.domain)!.name };
      await checkSecondFactor(deps, totpSubject(actor), request.body.totp, username, request.ip);
      const csrf = randomBytes(24).toString('base64url');
      const { token } = await deps.sessions.create({ subject, kind: actor.kind === 'operator' ? 'operator' : 'account', ip: request.ip, ttlMs: deps.options.idleMinutes * 60_000, csrf });
      await deps.sessions.recordLogins(new Map([[subject, { at: Date.now(), ip: request.ip, protocol: 'portal' }]]));
      setSessionCookie(reply, request, token, deps);
      deps.log.info({ user: subject, ip: request.ip }, 'portal login');
      return whoAmI(actor, deps, csrf);
    },
  );

  app.get('/api/v1/session', { schema: { summary: 'Who is logged in', tags: ['session'] }, preHandler: authenticate(deps) }, async (request) =>
    whoAmI(request.actor!, deps, request.portalSession?.session.csrf ?? ''),
  );

  app.delete('/api/v1/session', { schema: { summary: 'Log out', tags: ['session'] }, preHandler: authenticate(deps) }, async (request, reply) => {
    if (request.portalSession) await deps.sessions.remove(request.portalSession.token);
    clearSessionCookie(reply);
    return reply.code(204).send();
  });

  app.put<{ Body: { current: string; password: string } }>(
    '/api/v1/me/password',
    { schema: { summary: 'Change one\'s own password (needs the current one)', tags: ['me'], body: passwordChange }, preHandler: authenticate(deps) },
    async (request, reply) => {
      const actor = request.actor!;
      if (actor.kind !== 'account') throw new ApiProblem(403, 'ERR_FORBIDDEN', 'Only accounts change their password here; operators use "hikyaku operator passwd".');
      requirePermission(actor, deps, 'changePassword');
      const { current, password } = request.body;
      const check = await deps.authenticator.login(actor.account.address, current, request.ip);
      if (!check.ok) throw new ApiProblem(check.reason === 'rate-limited' ? 429 : 400, 'ERR_CURRENT_PASSWORD', 'The current password is wrong.', { field: 'current' });
      const problem = passwordProblem(password, actor.account.address, deps.options.minPasswordLength);
      if (problem) throw badRequest(problem, { field: 'password' });
      if (password === current) throw badRequest('The new password must differ from the current one.', { field: 'password' });
      await deps.store.setPassword(actor.account.address, await hashPassword(password), false);
      // Other sessions (a stolen one among them) end; this one goes on.
      await deps.sessions.removeSubject(actor.account.address, request.portalSession?.token);
      await deps.audit.append({ tenant: actor.tenant, actor: actorName(actor), ip: request.ip, action: 'password.change', target: actor.account.address, detail: {} });
      await deps.directory.refresh();
      return reply.code(204).send();
    },
  );
}
