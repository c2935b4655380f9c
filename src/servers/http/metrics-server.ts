import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, ReadinessReport } from '../../observability/index.js';

export interface MetricsEndpoints {
  /** The Prometheus text of every thread of this process. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** Stores reachable within their deadlines, directory loaded. */
  readiness(): Promise<ReadinessReport>;
}

/**
 * The small HTTP listener of a node (`metrics.listen`): `GET /metrics` in Prometheus text
 * format, `GET /healthz` (the process answers) and `GET /readyz` (it can serve: 200, or
 * 503 naming what does not answer). Anything else gets an RFC 9457 problem+json.
 */
export class MetricsServer {
  private readonly server: Server;
  private readonly started = Date.now();

  constructor(
    private readonly endpoints: MetricsEndpoints,
    private readonly log: Logger,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Bounded: a client that sends its request slowly or never does not keep a socket.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 50;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = path === '/metrics' || path === '/healthz' || path === '/readyz' ? path : undefined;
    if (!route) return problem(res, 404, 'Not Found', `There is nothing at ${truncate(path ?? '')}; this listener serves /metrics, /healthz and /readyz.`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return problem(res, 405, 'Method Not Allowed', `${route} answers GET and HEAD only.`);
    }
    try {
      if (route === '/metrics') {
        const { contentType, text } = await this.endpoints.metrics();
        return send(res, 200, contentType, text, req.method === 'HEAD');
      }
      if (route === '/healthz') return json(res, 200, { status: 'alive', uptimeSeconds: Math.round((Date.now() - this.started) / 1000) }, req.method === 'HEAD');
      const report = await this.endpoints.readiness();
      return json(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', checks: report.checks }, req.method === 'HEAD');
    } catch (err) {
      this.log.error({ err, path: route }, 'metrics listener failed to answer');
      return problem(res, 500, 'Internal Server Error', 'The figures could not be collected; the cause is in the log.');
    }
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : body);
}

function json(res: ServerResponse, status: number, value: unknown, headOnly = false): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, headOnly);
}

function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  send(res, status, 'application/problem+json; charset=utf-8', `${JSON.stringify({ type: 'about:blank', title, status, detail })}\n`);
}

const truncate = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s);
