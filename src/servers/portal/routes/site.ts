import { rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashPassword, passwordProblem, type DomainRecord } from '../../../directory/index.js';
import { byteLimit, extractSite, quotaError } from '../../../sites/index.js';
import { actorName } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, badRequest } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { managedDomain, text } from './common.js';

type Params = { domain: string };
type FileParams = Params & { '*': string };

const domainParams = { type: 'object', required: ['domain'], properties: { domain: text(253) } } as const;
const fileParams = { type: 'object', required: ['domain'], properties: { domain: text(253), '*': text(2048) } } as const;
// An archive may be a little larger than the site it unpacks to (ZIP's own headers); without a quota, this much.
const ARCHIVE_SLACK = 1024 * 1024;
const UNLIMITED_ARCHIVE = 2 * 1024 ** 3;

/**
 * A hosted domain's website, for its tenant administrators: the files and the space they
 * use, one file uploaded or deleted, the whole site replaced by a ZIP, and the SFTP login.
 * Uploads take the request body as it is (any content type), checked against the site's
 * quota as it arrives.
 */
export function siteRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  const { files, logins, quotaBytes, sftpPort } = deps.sites;
  const managed = (request: FastifyRequest<{ Params: Params }>): DomainRecord => managedDomain(deps, request);
  const audit = (request: FastifyRequest, domain: DomainRecord, action: string, detail: Record<string, unknown>) =>
    deps.audit.append({ tenant: domain.tenant, actor: actorName(request.actor!), ip: request.ip, action, target: domain.name, detail });

  app.get<{ Params: Params }>('/api/v1/domains/:domain/site', { ...pre, schema: { tags: ['websites'], summary: "The website's files, the space they use, and the SFTP login", params: domainParams } }, async (request) => {
    const domain = managed(request);
    const list = await files.list(domain.name);
    return {
      files: list,
      usedBytes: list.reduce((n, f) => n + f.size, 0),
      quotaBytes,
      sftp: { user: domain.name, port: sftpPort, enabled: (await logins.hash(domain.name)) !== undefined },
    };
  });

  app.put<{ Params: Params; Body: { password: string } }>(
    '/api/v1/domains/:domain/site/sftp-password',
    {
      ...pre,
      schema: { tags: ['websites'], summary: 'Set the password of the SFTP login (user name: the domain)', params: domainParams, body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: text(1024) } } },
    },
    async (request, reply) => {
      const domain = managed(request);
      const problem = passwordProblem(request.body.password, domain.name, deps.options.minPasswordLength);
      if (problem) throw badRequest(problem, { field: 'password' });
      await logins.set(domain.name, await hashPassword(request.body.password));
      await audit(request, domain, 'site.sftp-password', {});
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Params }>('/api/v1/domains/:domain/site/sftp-password', { ...pre, schema: { tags: ['websites'], summary: 'Turn the SFTP login off', params: domainParams } }, async (request, reply) => {
    const domain = managed(request);
    await logins.set(domain.name, undefined);
    await audit(request, domain, 'site.sftp-off', {});
    return reply.code(204).send();
  });

  app.delete<{ Params: FileParams }>('/api/v1/domains/:domain/site/files/*', { ...pre, schema: { tags: ['websites'], summary: 'Delete a file or a folder of the website', params: fileParams } }, async (request, reply) => {
    const domain = managed(request);
    await files.remove(domain.name, request.params['*']);
    await audit(request, domain, 'site.delete', { path: request.params['*'] });
    return reply.code(204).send();
  });
}

/** The upload routes: their body is the file (or the ZIP) itself, so they live in a scope that parses no body. */
export function siteUploadRoutes(app: FastifyInstance, deps: PortalDeps): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const pre = { preHandler: authenticate(deps) };
  const { files, quotaBytes } = deps.sites;
  const managed = (request: FastifyRequest<{ Params: Params }>): DomainRecord => managedDomain(deps, request);

  app.put<{ Params: FileParams }>('/api/v1/domains/:domain/site/files/*', { ...pre, schema: { tags: ['websites'], summary: 'Upload one file of the website (the request body, any type)', params: fileParams } }, async (request, reply) => {
    const domain = managed(request);
    const written = await files.write(domain.name, request.params['*'], (request.body as NodeJS.ReadableStream | undefined) ?? Readable.from([]), quotaBytes);
    await deps.audit.append({ tenant: domain.tenant, actor: actorName(request.actor!), ip: request.ip, action: 'site.upload', target: domain.name, detail: { path: request.params['*'], size: written.size } });
    return reply.code(written.created ? 201 : 200).send({ path: request.params['*'], size: written.size });
  });

  app.put<{ Params: Params }>(
    '/api/v1/domains/:domain/site',
    { ...pre, schema: { tags: ['websites'], summary: 'Replace the whole website by a ZIP archive of it (application/zip)', params: domainParams } },
    async (request, reply) => {
      const domain = managed(request);
      if (!/^application\/(zip|x-zip-compressed|octet-stream)\b/i.test(request.headers['content-type'] ?? '')) throw new ApiProblem(415, 'ERR_MEDIA_TYPE', 'Send the website as a ZIP archive (Content-Type: application/zip).');
      const zip = await files.temp();
      try {
        const limit = quotaBytes > 0 ? quotaBytes + ARCHIVE_SLACK : UNLIMITED_ARCHIVE;
        await pipeline((request.body as NodeJS.ReadableStream | undefined) ?? Readable.from([]), byteLimit(limit, () => quotaError(quotaBytes)), createWriteStream(zip));
        const result = await files.replace(domain.name, (folder) => extractSite(zip, folder, quotaBytes));
        await deps.audit.append({ tenant: domain.tenant, actor: actorName(request.actor!), ip: request.ip, action: 'site.replace', target: domain.name, detail: result });
        return reply.send(result);
      } finally {
        await rm(zip, { force: true });
      }
    },
  );
}
