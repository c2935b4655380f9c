import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkPublished, expectedRecords, generateDkimKey, newSelector, zoneLine, type ExpectedRecord } from '../../../directory/index.js';
import { actorName, requireManaged } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { authenticate } from '../session-auth.js';
import { text } from './common.js';

const domainParams = { type: 'object', required: ['domain'], properties: { domain: text(253) } } as const;

/** The DNS records each domain must publish, a live check of what it publishes now, and DKIM key rotation. */
export function dnsRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const managed = (request: FastifyRequest<{ Params: { domain: string } }>) =>
    requireManaged(request.actor!, deps.directory, `x@${request.params.domain.toLowerCase()}`, `The domain ${request.params.domain}`);
  const records = async (domain: string) => expectedRecords(domain, deps.options.mailHost, await deps.store.listDkimKeys(domain));
  const withZone = <R extends ExpectedRecord>(list: readonly R[]) => ({ records: list.map((r) => ({ ...r, zoneLine: zoneLine(r) })), zone: list.map(zoneLine).join('\n') + '\n' });

  app.get<{ Params: { domain: string } }>('/api/v1/domains/:domain/dns', { ...pre, schema: { tags: ['domains'], summary: 'The records to publish: MX, SPF, every DKIM key, DMARC (also as a zone file)', params: domainParams } }, async (request) =>
    withZone(await records(managed(request).name)),
  );

  app.get<{ Params: { domain: string } }>(
    '/api/v1/domains/:domain/dns/check',
    { ...pre, schema: { tags: ['domains'], summary: 'What the DNS publishes now for each record, through the resolver relay uses', params: domainParams } },
    async (request) => withZone(await checkPublished(await records(managed(request).name), deps.options.mailHost, deps.resolver)),
  );

  app.post<{ Params: { domain: string }; Body: { algorithm?: 'rsa' | 'ed25519' } }>(
    '/api/v1/domains/:domain/dkim/rotate',
    {
      ...pre,
      schema: {
        tags: ['domains'],
        summary: 'Make a new DKIM key that signs from now on; the old one stays published',
        params: domainParams,
        body: { type: 'object', additionalProperties: false, properties: { algorithm: { type: 'string', enum: ['rsa', 'ed25519'] } } },
      },
    },
    async (request) => {
      const domain = managed(request);
      const selector = newSelector((await deps.store.listDkimKeys(domain.name)).map((k) => k.selector));
      await deps.store.addDkimKey(domain.name, generateDkimKey(request.body?.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256', selector));
      await deps.audit.append({ tenant: domain.tenant, actor: actorName(request.actor!), ip: request.ip, action: 'dkim.rotate', target: domain.name, detail: { selector } });
      await deps.directory.refresh();
      return { selector, ...withZone(await records(domain.name)) };
    },
  );
}
