import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DnsRecord, DomainRecord } from '../../../directory/index.js';
import { checkRecord, presentData, toZoneRecord, zoneFile, zoneRecords, type ZoneRecord } from '../../../zones/index.js';
import { actorName } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { badRequest, notFound } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { managedDomain, text } from './common.js';

type Params = { domain: string };
type IdParams = Params & { id: string };
type Body = { name?: string; type?: string; ttl?: number; value?: string };

const domainParams = { type: 'object', required: ['domain'], properties: { domain: text(253) } } as const;
const idParams = { type: 'object', required: ['domain', 'id'], properties: { domain: text(253), id: { type: 'string', pattern: '^[0-9]{1,15}$' } } } as const;
const recordBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'value'],
  properties: { name: text(253), type: text(8), ttl: { type: 'integer' }, value: text(5000) },
} as const;

const view = (r: ZoneRecord) => ({ name: r.name, type: r.type, ttl: r.ttl, value: presentData(r) });

/**
 * Tenant administrators' own records in their domains' zones (A, AAAA, CNAME, TXT, MX, SRV,
 * CAA), checked against the records Hikyaku publishes and each other; and the whole zone as
 * the dns role serves it, as a zone file. A change is in DNS as soon as the directory cache
 * has it (within a second).
 */
export function zoneRecordRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const domainOf = (request: FastifyRequest<{ Params: Params }>): DomainRecord => managedDomain(deps, request);
  // Read from the store, not the cache: a page shows a record added a moment ago on another instance.
  const managed = async (domain: string, serial: number) => zoneRecords(domain, await deps.store.listDkimKeys(domain), serial, deps.options.zone);
  const zoneOf = async (domain: string) => {
    const own = await deps.store.listDnsRecords(domain);
    const ours = await managed(domain, await deps.store.version());
    return { own, ours, all: [...ours, ...own.map((r) => toZoneRecord(domain, r))] };
  };
  const checked = async (domain: string, body: Body, without?: number) => {
    const others = (await deps.store.listDnsRecords(domain)).filter((r) => r.id !== without);
    const result = checkRecord(domain, body, others, await managed(domain, 0));
    if ('problem' in result) throw badRequest(result.problem.message, { field: result.problem.field });
    return result.ok;
  };
  const audit = (request: FastifyRequest, domain: DomainRecord, action: string, detail: Record<string, unknown>) =>
    deps.audit.append({ tenant: domain.tenant, actor: actorName(request.actor!), ip: request.ip, action, target: domain.name, detail });
  const recordOf = async (domain: string, id: number): Promise<DnsRecord> => {
    const r = (await deps.store.listDnsRecords(domain)).find((x) => x.id === id);
    if (!r) throw notFound(`The record #${id} of ${domain}`);
    return r;
  };

  app.get<{ Params: Params }>(
    '/api/v1/domains/:domain/zone/records',
    { ...pre, schema: { tags: ['domains'], summary: "The domain's own DNS records, the ones Hikyaku publishes, and the whole zone as a zone file", params: domainParams } },
    async (request) => {
      const domain = domainOf(request);
      const { own, ours, all } = await zoneOf(domain.name);
      return { records: own, managed: ours.filter((r) => r.type !== 'SOA').map(view), zone: zoneFile(domain.name, all) };
    },
  );

  app.get<{ Params: Params }>('/api/v1/domains/:domain/zone', { ...pre, schema: { tags: ['domains'], summary: 'The zone as the dns role serves it (text/dns, RFC 1035 master file)', params: domainParams } }, async (request, reply) => {
    const domain = domainOf(request);
    const { all } = await zoneOf(domain.name);
    return reply.type('text/dns; charset=utf-8').header('content-disposition', `attachment; filename="${domain.name}.zone"`).send(zoneFile(domain.name, all));
  });

  app.post<{ Params: Params; Body: Body }>(
    '/api/v1/domains/:domain/zone/records',
    { ...pre, schema: { tags: ['domains'], summary: 'Add a record to the zone', params: domainParams, body: recordBody } },
    async (request, reply) => {
      const domain = domainOf(request);
      const record = await deps.store.addDnsRecord(domain.name, await checked(domain.name, request.body));
      await audit(request, domain, 'dns.add', { id: record.id, name: record.name, type: record.type, value: record.value });
      await deps.directory.refresh();
      return reply.code(201).send({ record });
    },
  );

  app.put<{ Params: IdParams; Body: Body }>(
    '/api/v1/domains/:domain/zone/records/:id',
    { ...pre, schema: { tags: ['domains'], summary: 'Change a record of the zone', params: idParams, body: recordBody } },
    async (request) => {
      const domain = domainOf(request);
      const id = Number(request.params.id);
      await recordOf(domain.name, id);
      const record = await deps.store.updateDnsRecord(domain.name, id, await checked(domain.name, request.body, id));
      await audit(request, domain, 'dns.change', { id, name: record.name, type: record.type, value: record.value });
      await deps.directory.refresh();
      return { record };
    },
  );

  app.delete<{ Params: IdParams }>(
    '/api/v1/domains/:domain/zone/records/:id',
    { ...pre, schema: { tags: ['domains'], summary: 'Delete a record from the zone', params: idParams } },
    async (request, reply) => {
      const domain = domainOf(request);
      const old = await recordOf(domain.name, Number(request.params.id));
      await deps.store.removeDnsRecord(domain.name, old.id);
      await audit(request, domain, 'dns.remove', { id: old.id, name: old.name, type: old.type, value: old.value });
      await deps.directory.refresh();
      return reply.code(204).send();
    },
  );
}
