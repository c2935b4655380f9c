import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allowedFrom, OPEN_POLICY } from '../../../directory/index.js';
import type { PortalDeps } from '../deps.js';
import { ApiProblem, sendProblem } from '../problems.js';
import { statusReport } from '../status-page.js';
import type { LatestRates } from '../status-watch.js';
import { STATUS_CSS, statusHtml, type StatusLang } from '../status-html.js';

/** The language of the page: ?lang=, else the browser's first choice of Japanese or English (English otherwise). */
function langOf(request: FastifyRequest<{ Querystring: { lang?: string } }>): StatusLang {
  if (request.query.lang === 'ja' || request.query.lang === 'en') return request.query.lang;
  const accept = request.headers['accept-language'] ?? '';
  const first = accept.split(',').map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('ja') || p.startsWith('en'));
  return first?.startsWith('ja') ? 'ja' : 'en';
}

/** The public status page (no login, every portal instance), server-rendered: it works without JavaScript. */
export function statusRoutes(app: FastifyInstance, deps: PortalDeps, rates: LatestRates): void {
  const thresholds = { ...deps.options.status, checkTimeoutMs: deps.options.storeTimeoutMs };
  app.get<{ Querystring: { lang?: string } }>('/status', { schema: { hide: true } }, async (request, reply) => {
    const report = await statusReport(deps, thresholds, rates.current);
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(statusHtml(report, langOf(request)));
  });
  app.get<{ Querystring: { lang?: string } }>('/api/v1/status', { schema: { tags: ['status'], summary: 'The status page\'s figures as JSON (no login)', security: [] } }, async () => {
    const r = await statusReport(deps, thresholds, rates.current);
    return { at: new Date(r.at).toISOString(), services: r.services, queue: r.queue, open: r.open.map((n) => n.id), day: r.day.map((x) => ({ ...x, at: new Date(x.at).toISOString() })) };
  });
  // For Prometheus: only from the configured networks; anyone else sees nothing there.
  const scrapers = { ...OPEN_POLICY, allowFrom: deps.options.metricsFrom };
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (deps.options.metricsFrom.length === 0 || !allowedFrom(scrapers, request.ip)) return sendProblem(reply, new ApiProblem(404, 'ERR_NOT_FOUND', 'There is no GET /metrics here.'), '/metrics');
    const { contentType, text } = await deps.scrapeMetrics();
    return reply.type(contentType).header('Cache-Control', 'no-store').send(text);
  });
  app.get('/status.css', { schema: { hide: true } }, async (_request, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(STATUS_CSS));
}
