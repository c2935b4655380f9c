import type { FastifyInstance, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { newTotpSecret, totpUri, verifyTotp } from '../../../auth/index.js';
import { actorName, isAdmin, tenantScope, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem } from '../problems.js';
import { authenticate } from '../session-auth.js';

const codeBody = { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', maxLength: 10 } } } as const;

/** The subject a session's second factor belongs to: the account's address or the operator's login. */
export const totpSubject = (actor: Actor) => (actor.kind === 'operator' ? `operator:${actor.login}` : actor.kind === 'account' ? actor.account.address : '');

/** Checks a code of a confirmed second factor; a wrong or reused one throws (and counts as a failed login). */
export async function checkSecondFactor(deps: PortalDeps, subject: string, code: string | undefined, username: string, ip: string): Promise<void> {
  const second = await deps.totp.getTotp(subject);
  if (!second?.confirmed) return;
  if (!code) throw new ApiProblem(401, 'ERR_TOTP_REQUIRED', 'Enter the 6-digit code from your authenticator app.');
  const step = verifyTotp(second.secret, code);
  if (step === undefined || !(await deps.totp.useTotpStep(subject, step))) {
    await deps.authenticator.secondFactorFailed(username, ip);
    throw new ApiProblem(401, 'ERR_TOTP_FAILED', 'The code is wrong, or was used already; wait for the next one.');
  }
}

/** Two-step login for administrators and operators (RFC 6238): enrol with a QR code, confirm with a code, remove with a code. */
export function totpRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const who = (request: FastifyRequest) => {
    const actor = request.actor!;
    if (actor.kind === 'token' || !isAdmin(actor)) throw new ApiProblem(403, 'ERR_FORBIDDEN', 'Two-step login is for administrators and operators.');
    return { actor, subject: totpSubject(actor) };
  };
  const audit = (request: FastifyRequest, action: string, actor: Actor, subject: string) =>
    deps.audit.append({ tenant: tenantScope(actor) ?? null, actor: actorName(actor), ip: request.ip, action, target: subject, detail: {} });

  app.get('/api/v1/me/totp', { ...pre, schema: { tags: ['me'], summary: 'Whether two-step login is on' } }, async (request) => {
    const { subject } = who(request);
    return { enabled: (await deps.totp.getTotp(subject))?.confirmed ?? false };
  });

  app.post('/api/v1/me/totp', { ...pre, schema: { tags: ['me'], summary: 'Start turning two-step login on: a new secret, as a QR code and as text' } }, async (request) => {
    const { subject } = who(request);
    if ((await deps.totp.getTotp(subject))?.confirmed) throw new ApiProblem(409, 'ERR_TOTP_ON', 'Two-step login is on already; turn it off first to use a new phone.');
    const secret = newTotpSecret();
    await deps.totp.setTotp(subject, secret, false);
    const uri = totpUri(secret, subject.replace(/^operator:/, ''), `Hikyaku ${deps.options.mailHost}`);
    const svg = await QRCode.toString(uri, { type: 'svg', margin: 1 });
    return { secret, uri, qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  });

  app.post<{ Body: { code: string } }>('/api/v1/me/totp/confirm', { ...pre, schema: { tags: ['me'], summary: 'Turn two-step login on with a code from the app', body: codeBody } }, async (request) => {
    const { actor, subject } = who(request);
    const pending = await deps.totp.getTotp(subject);
    if (!pending) throw new ApiProblem(409, 'ERR_TOTP_NONE', 'Start with a new secret first.');
    const step = verifyTotp(pending.secret, request.body.code);
    if (step === undefined || !(await deps.totp.useTotpStep(subject, step))) throw new ApiProblem(400, 'ERR_TOTP_FAILED', 'The code is wrong; check the time on your phone and try the next one.', { field: 'code' });
    await deps.totp.setTotp(subject, pending.secret, true);
    await audit(request, 'totp.on', actor, subject);
    return { enabled: true };
  });

  app.delete<{ Body: { code: string } }>('/api/v1/me/totp', { ...pre, schema: { tags: ['me'], summary: 'Turn two-step login off (needs a current code)', body: codeBody } }, async (request, reply) => {
    const { actor, subject } = who(request);
    await checkSecondFactor(deps, subject, request.body.code, subject, request.ip);
    await deps.totp.removeTotp(subject);
    await audit(request, 'totp.off', actor, subject);
    return reply.code(204).send();
  });
}
