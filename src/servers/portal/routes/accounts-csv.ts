import { PassThrough } from 'node:stream';
import iconv from 'iconv-lite';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashPassword, type AccountRole } from '../../../directory/index.js';
import { actorName, isTenantAdmin, manageableDomains, requireManaged, type Actor } from '../actor.js';
import type { PortalDeps } from '../deps.js';
import { decodeCsv, accountsCsv, planImport, type CsvEncoding, type ImportPlan } from '../account-import.js';
import { ApiProblem, badRequest, problemOf } from '../problems.js';
import { authenticate } from '../session-auth.js';
import { text } from './common.js';

const MAX_CSV_BYTES = 5 * 1024 * 1024;
// argon2id runs on libuv's threads: this many hashes at once keep them busy.
const HASH_CONCURRENCY = 4;

const mayGrant = (actor: Actor) => (role: AccountRole) => role !== 'tenant-admin' || isTenantAdmin(actor);

/** CSV export and import of accounts (UTF-8 or Shift_JIS): a preview of every row first, then the import with progress. */
export function accountCsvRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const pre = { preHandler: authenticate(deps) };
  app.addContentTypeParser(['text/csv', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: MAX_CSV_BYTES }, (_request, body, done) => done(null, body));

  const domainsOf = (request: FastifyRequest<{ Querystring: { domain?: string } }>) =>
    request.query.domain ? [requireManaged(request.actor!, deps.directory, `x@${request.query.domain.toLowerCase()}`, `The domain ${request.query.domain}`)] : manageableDomains(request.actor!, deps.directory);

  app.get<{ Querystring: { domain?: string; encoding?: CsvEncoding } }>(
    '/api/v1/accounts/export',
    {
      ...pre,
      schema: {
        tags: ['accounts'],
        summary: 'Accounts as CSV (address, name, department, quota, role, state; no passwords)',
        querystring: { type: 'object', additionalProperties: false, properties: { domain: text(253), encoding: { type: 'string', enum: ['utf-8', 'shift_jis'] } } },
      },
    },
    async (request, reply) => {
      const accounts = (await Promise.all(domainsOf(request).map((d) => deps.store.listAccounts(d.name)))).flat();
      const csv = accountsCsv(accounts);
      const sjis = request.query.encoding === 'shift_jis';
      // Excel opens UTF-8 as such only with a byte order mark.
      const body = sjis ? iconv.encode(csv, 'cp932') : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]);
      return reply
        .type(`text/csv; charset=${sjis ? 'Shift_JIS' : 'utf-8'}`)
        .header('Content-Disposition', `attachment; filename="accounts-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(body);
    },
  );

  app.post<{ Querystring: { encoding?: CsvEncoding | 'auto'; commit?: boolean; skipErrors?: boolean; mustChangePassword?: boolean }; Body: Buffer }>(
    '/api/v1/accounts/import',
    {
      ...pre,
      bodyLimit: MAX_CSV_BYTES,
      schema: {
        tags: ['accounts'],
        summary: 'Import accounts from CSV: without commit, a preview of every row; with commit, the import, streamed as NDJSON progress lines',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { encoding: { type: 'string', enum: ['auto', 'utf-8', 'shift_jis'] }, commit: { type: 'boolean' }, skipErrors: { type: 'boolean' }, mustChangePassword: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw new ApiProblem(415, 'ERR_MEDIA_TYPE', 'Send the file as text/csv.');
      const actor = request.actor!;
      const domains = manageableDomains(actor, deps.directory);
      const { text: csv, encoding } = decodeCsv(request.body, request.query.encoding ?? 'auto');
      const existing = new Map((await Promise.all(domains.map((d) => deps.store.listAccounts(d.name)))).flat().map((a) => [a.address, a]));
      const taken = new Set((await Promise.all(domains.map((d) => deps.store.listAliases(d.name)))).flat().map((a) => a.address));
      const plan = planImport(csv, { domains, existing, taken, minPasswordLength: deps.options.minPasswordLength, mayGrant: mayGrant(actor) });
      const counts = { add: 0, update: 0, error: 0 };
      for (const r of plan.rows) counts[r.action]++;
      if (!request.query.commit) return { encoding, counts, rows: plan.rows };
      if (counts.error > 0 && !request.query.skipErrors) throw badRequest(`${counts.error} row(s) have errors; fix them, or import the others with skipErrors.`, { counts });
      const progress = new PassThrough();
      reply.type('application/x-ndjson; charset=utf-8');
      void runImport(plan, request, deps, request.query.mustChangePassword ?? true, (line) => progress.write(`${JSON.stringify(line)}\n`)).finally(() => progress.end());
      return reply.send(progress);
    },
  );
}

/** Writes the plan's good rows, reporting progress; a failure mid-way ends with a problem line (rows done stay done). */
async function runImport(plan: ImportPlan, request: FastifyRequest, deps: PortalDeps, mustChange: boolean, emit: (line: object) => void): Promise<void> {
  const rows = plan.rows.filter((r) => r.action !== 'error');
  const actor = request.actor!;
  const tenantOf = (address: string) => deps.directory.tenantOf(address.slice(address.lastIndexOf('@') + 1))?.name ?? null;
  let done = 0;
  const result = { added: 0, updated: 0, skipped: plan.rows.length - rows.length };
  emit({ done, total: rows.length });
  try {
    for (let i = 0; i < rows.length; i += HASH_CONCURRENCY) {
      const batch = rows.slice(i, i + HASH_CONCURRENCY);
      const hashes = await Promise.all(batch.map((r) => (plan.passwords.has(r.line) ? hashPassword(plan.passwords.get(r.line)!) : undefined)));
      for (const [j, r] of batch.entries()) {
        const profile = { name: r.name, department: r.department, ...(r.quotaBytes === null ? {} : { quotaBytes: r.quotaBytes }), ...(r.role ? { role: r.role } : {}) };
        if (r.action === 'add') {
          await deps.store.addAccount({ address: r.address, passwordHash: hashes[j]!, quotaBytes: r.quotaBytes ?? 0, ...profile, mustChangePassword: mustChange });
          result.added++;
        } else {
          await deps.store.updateAccount(r.address, profile);
          if (hashes[j]) await deps.store.setPassword(r.address, hashes[j]!, mustChange);
          result.updated++;
        }
        await deps.audit.append({ tenant: tenantOf(r.address), actor: actorName(actor), ip: request.ip, action: `account.import-${r.action}`, target: r.address, detail: { line: r.line } });
      }
      done += batch.length;
      emit({ done, total: rows.length });
    }
    emit({ result });
    deps.log.info({ user: actorName(actor), ...result }, 'accounts imported');
  } catch (err) {
    const p = problemOf(err, deps.log);
    emit({ problem: { status: p.status, code: p.code, detail: `${p.message} ${done} of ${rows.length} rows were imported before it.` }, result });
  } finally {
    await deps.directory.refresh();
  }
}
