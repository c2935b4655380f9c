import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PortalSession } from '../../auth/index.js';
import type { Actor } from './actor.js';
import type { PortalDeps } from './deps.js';
import { ApiProblem } from './problems.js';

export const SESSION_COOKIE = 'hikyaku_session';

// Writing seen_at on every request would make each page view a directory write.
const TOUCH_EVERY_MS = 60_000;

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
    portalSession?: { token: string; session: PortalSession };
  }
}

const loginRequired = (detail: string) => new ApiProblem(401, 'ERR_LOGIN_REQUIRED', detail);

/** True when the cookie may go without the Secure flag: plain HTTP from this machine (dev). */
export function cookieIsSecure(request: FastifyRequest, mode: 'always' | 'auto'): boolean {
  if (mode === 'always' || request.protocol === 'https') return true;
  return !/^(127\.|::1$|::ffff:127\.)/.test(request.ip);
}

export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, token: string, deps: PortalDeps): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: cookieIsSecure(request, deps.options.secureCookies),
    maxAge: deps.options.maxHours * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Resolves a session's subject to who it is now; undefined when it may no longer log in. */
function actorOf(session: PortalSession, deps: PortalDeps): Actor | undefined {
  if (session.kind === 'operator') {
    const op = deps.directory.operator(session.subject);
    return op && { kind: 'operator', login: op.login };
  }
  const account = deps.directory.account(session.subject);
  if (!account || account.disabled) return undefined;
  const tenant = deps.directory.tenantOf(account.domain);
  if (!tenant || tenant.suspended) return undefined;
  return { kind: 'account', account, tenant: tenant.name };
}

const ALLOWED_BEFORE_PASSWORD_CHANGE = new Set(['GET /api/v1/session', 'DELETE /api/v1/session', 'PUT /api/v1/me/password']);

/**
 * The hook in front of every API route but login: a live session (idle and absolute
 * timeouts), an account or operator that may still log in, the CSRF token on anything
 * that changes state, and a required password change done first.
 */
export function authenticate(deps: PortalDeps) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (bearer) {
      // Automation: no cookie, so no CSRF to fear; the token is the whole credential.
      const found = await deps.tokens.verifyToken(bearer[1]!);
      if (!found) throw new ApiProblem(401, 'ERR_TOKEN_INVALID', 'The API token is not valid (revoked, mistyped, or never made).');
      if (found.tenant !== null && deps.directory.tenant(found.tenant)?.suspended !== false) throw new ApiProblem(403, 'ERR_ACCOUNT_DISABLED', 'The tenant of this API token is suspended or gone.');
      request.actor = { kind: 'token', id: found.id, name: found.name, tenant: found.tenant };
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    if (!token) throw loginRequired('Please log in.');
    const now = Date.now();
    const session = await deps.sessions.get(token, now);
    const ended = () => {
      clearSessionCookie(reply);
      return loginRequired('Your session has ended; please log in again.');
    };
    if (!session || session.createdAt + deps.options.maxHours * 3_600_000 <= now) throw ended();
    const actor = actorOf(session, deps);
    if (!actor) {
      await deps.sessions.remove(token);
      throw ended();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.headers['x-csrf-token'] !== session.csrf) {
      throw new ApiProblem(403, 'ERR_CSRF', 'This request lacks the page\'s security token (X-CSRF-Token); reload the page and try again.');
    }
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (actor.kind === 'account' && actor.account.mustChangePassword && !ALLOWED_BEFORE_PASSWORD_CHANGE.has(route)) {
      throw new ApiProblem(403, 'ERR_PASSWORD_CHANGE_REQUIRED', 'Please choose a new password first.');
    }
    if (now - session.seenAt > TOUCH_EVERY_MS) {
      await deps.sessions.touch(token, now, Math.min(now + deps.options.idleMinutes * 60_000, session.createdAt + deps.options.maxHours * 3_600_000));
    }
    request.actor = actor;
    request.portalSession = { token, session };
  };
}
