import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { PortalDeps } from './deps.js';
import { ApiProblem, problemOf, sendProblem } from './problems.js';
import { sessionRoutes } from './routes/session.js';
import { accountRoutes } from './routes/accounts.js';
import { mailRoutingRoutes } from './routes/mail-routing.js';
import { autoReplyRoutes } from './routes/auto-reply.js';
import { policyRoutes } from './routes/policies.js';
import { accountCsvRoutes } from './routes/accounts-csv.js';
import { tokenRoutes } from './routes/tokens.js';
import { dnsRoutes } from './routes/dns.js';
import { zoneRecordRoutes } from './routes/zone-records.js';
import { siteRoutes, siteUploadRoutes } from './routes/site.js';
import { totpRoutes } from './routes/totp.js';
import { noticeRoutes } from './routes/notices.js';
import { queueRoutes } from './routes/queue.js';
import { watchStatus, type LatestRates } from './status-watch.js';
import { NO_RATES } from '../../notices/index.js';
import { statusRoutes } from './routes/status.js';

// The UI and its API come from this origin only; nothing may frame the member site.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * The portal role: the member site's JSON API under /api/v1 (fastify, route schemas that
 * also make the OpenAPI document), and the built React UI. Stateless: sessions live in the
 * directory store, so any number of instances serve the same users.
 */
export class PortalServer {
  readonly app: FastifyInstance;

  constructor(private readonly deps: PortalDeps) {
    this.app = Fastify({
      logger: false,
      bodyLimit: 1024 * 1024,
      // Bounded: a client that sends slowly or never does not keep a socket.
      requestTimeout: 30_000,
      connectionTimeout: 30_000,
      keepAliveTimeout: 5_000,
      routerOptions: { maxParamLength: 400 },
      trustProxy: deps.options.trustProxy.length ? [...deps.options.trustProxy] : false,
      // Errors the router meets before any route (a URL with bad percent-encoding) are problems too.
      frameworkErrors: (err, request, reply) => void sendProblem(reply, problemOf(err, deps.log), request.url.split('?')[0]),
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    });
    this.routes();
  }

  private routes(): void {
    const { app, deps } = this;
    void app.register(cookie);
    // JSON bodies must be UTF-8 (RFC 8259 §8.1): invalid bytes are refused, not replaced.
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return done(new ApiProblem(400, 'ERR_BAD_REQUEST', 'The request body is not valid UTF-8.'));
      }
      if (text.trim() === '') return done(new ApiProblem(400, 'ERR_BAD_REQUEST', 'The request body is empty; this call needs a JSON object.'));
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new ApiProblem(400, 'ERR_BAD_REQUEST', 'The request body is not valid JSON.'));
      }
    });
    void app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Hikyaku member site API', version: '1', description: 'Every error is application/problem+json (RFC 9457) with a `code` and a sentence in `detail`. In a browser session, calls that change something need the session\'s X-CSRF-Token header; automation uses an API token (Authorization: Bearer hky_…) instead.' },
        components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'hikyaku_session' }, token: { type: 'http', scheme: 'bearer' } } },
        security: [{ session: [] }, { token: [] }],
      },
    });
    app.addHook('onSend', async (request, reply, payload) => {
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Referrer-Policy', 'same-origin');
      reply.header('X-Frame-Options', 'DENY');
      reply.header('Content-Security-Policy', CSP);
      if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
      return payload;
    });
    app.setErrorHandler((err, request, reply) => sendProblem(reply, problemOf(err, deps.log), request.url.split('?')[0]));
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (!path.startsWith('/api/') && (request.method === 'GET' || request.method === 'HEAD') && this.indexHtml()) {
        // The UI routes in the browser: every page path serves index.html.
        return reply.type('text/html; charset=utf-8').send(this.indexHtml());
      }
      return sendProblem(reply, new ApiProblem(404, 'ERR_NOT_FOUND', `There is no ${request.method} ${path.slice(0, 200)} here.`), path);
    });
    void app.register(async (api) => {
      sessionRoutes(api, deps);
      accountRoutes(api, deps);
      mailRoutingRoutes(api, deps);
      autoReplyRoutes(api, deps);
      policyRoutes(api, deps);
      accountCsvRoutes(api, deps);
      tokenRoutes(api, deps);
      dnsRoutes(api, deps);
      zoneRecordRoutes(api, deps);
      siteRoutes(api, deps);
      totpRoutes(api, deps);
      noticeRoutes(api, deps);
      queueRoutes(api, deps);
      statusRoutes(api, deps, this.rates);
      api.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    });
    void app.register(async (uploads) => siteUploadRoutes(uploads, deps));
    const ui = deps.options.uiDir;
    if (ui && existsSync(join(ui, 'index.html'))) {
      void app.register(fastifyStatic, { root: ui, index: ['index.html'], wildcard: false, cacheControl: false, setHeaders: (res, path) => res.header('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache') });
    }
  }

  private index: string | undefined | null = null;

  private indexHtml(): string | undefined {
    if (this.index === null) {
      const path = this.deps.options.uiDir && join(this.deps.options.uiDir, 'index.html');
      this.index = path && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    }
    return this.index;
  }

  private stopWatch: (() => void) | undefined;
  private readonly rates: LatestRates = { current: NO_RATES };

  /** Listens, and starts following the status signals (backlog samples, automatic incidents). */
  async listen(host: string, port: number): Promise<AddressInfo> {
    await this.app.listen({ host, port });
    this.stopWatch = watchStatus(this.deps, this.rates);
    return this.app.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.stopWatch?.();
    await this.app.close();
  }
}
