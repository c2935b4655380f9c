import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { autodiscoverAddress, autodiscoverResponse, thunderbirdConfig, type ClientSettings } from '../../autoconfig/index.js';
import type { Logger } from '../../observability/index.js';
import { StaticSites } from './static-site.js';

/** What the web role needs of the directory: which domains it hosts. */
export interface HostedDomains {
  isHostedDomain(domain: string): boolean;
}

const MAX_BODY = 64 * 1024;

/** A hosted domain a request is for: from ?emailaddress= (Thunderbird), else the Host header's autoconfig./autodiscover. name. */
function domainOf(req: IncomingMessage, url: URL, hosted: HostedDomains): string | undefined {
  const email = url.searchParams.get('emailaddress');
  const candidates = [email?.slice(email.lastIndexOf('@') + 1), (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^(autoconfig|autodiscover|www)\./i, '')];
  return candidates.map((c) => c?.toLowerCase()).find((c) => c && hosted.isHostedDomain(c));
}

/**
 * The web role: client autoconfiguration for the hosted domains, by the Host header
 * (Thunderbird's /mail/config-v1.1.xml and /.well-known/autoconfig/…, Outlook's POST
 * /autodiscover/autodiscover.xml), and each hosted domain's static website.
 */
export class WebServer {
  private readonly server: Server;
  private readonly sites: StaticSites;

  constructor(
    private readonly options: { readonly host: string; readonly port: number; readonly sitesDir: string },
    private readonly hosted: HostedDomains,
    private readonly settings: ClientSettings,
    private readonly log: Logger,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'web request failed');
        if (!res.headersSent) this.text(res, 500, 'Internal error');
        else res.destroy();
      });
    });
    this.sites = new StaticSites(options.sitesDir);
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
  }

  private text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', ...headers });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.toLowerCase();
    if (path === '/mail/config-v1.1.xml' || path === '/.well-known/autoconfig/mail/config-v1.1.xml') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.text(res, 405, 'Use GET', undefined, { allow: 'GET, HEAD' });
      const domain = domainOf(req, url, this.hosted);
      if (!domain) return this.text(res, 404, 'No hosted domain by that name');
      return this.text(res, 200, thunderbirdConfig(domain, this.settings), 'application/xml; charset=utf-8');
    }
    if (path === '/autodiscover/autodiscover.xml') {
      if (req.method !== 'POST') return this.text(res, 405, 'Autodiscover takes a POST', undefined, { allow: 'POST' });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY) return this.text(res, 413, 'Request too large');
        chunks.push(c as Buffer);
      }
      const address = autodiscoverAddress(Buffer.concat(chunks).toString('utf8'));
      const domain = address?.slice(address.lastIndexOf('@') + 1);
      if (!address || !domain || !this.hosted.isHostedDomain(domain)) return this.text(res, 404, 'No hosted address in the request');
      return this.text(res, 200, autodiscoverResponse(address, this.settings), 'application/xml; charset=utf-8');
    }
    // The website of the domain in the Host header (and its www. name).
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase().replace(/^www\./, '');
    if (!this.hosted.isHostedDomain(host)) return this.text(res, 404, 'No website by that name here');
    return this.sites.serve(host, req, res, url.pathname);
  }

  async listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve(this.server.address() as AddressInfo));
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
