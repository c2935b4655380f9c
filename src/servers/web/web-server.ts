import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { autodiscoverAddress, autodiscoverResponse, thunderbirdConfig, type ClientSettings } from '../../autoconfig/index.js';
import type { Logger } from '../../observability/index.js';
import { StaticSites } from './static-site.js';
import type { SiteCertificates } from './certificates.js';
import type { AcmeIssuer } from './acme.js';

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
export interface WebOptions {
  readonly host: string;
  readonly port: number;
  /** The HTTPS port, with each domain's certificate by SNI. */
  readonly tlsPort: number;
  readonly sitesDir: string;
  /** The MTA-STS policy served at mta-sts.<domain>; undefined when none is published. */
  readonly mtaStsPolicy: string | undefined;
}

export class WebServer {
  private readonly servers: Server[];
  private readonly sites: StaticSites;

  constructor(
    private readonly options: WebOptions,
    private readonly hosted: HostedDomains,
    private readonly settings: ClientSettings,
    private readonly certs: SiteCertificates,
    private readonly acme: AcmeIssuer | undefined,
    private readonly log: Logger,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'web request failed');
        if (!res.headersSent) this.text(res, 500, 'Internal error');
        else res.destroy();
      });
    };
    const tls = createHttpsServer({ ...certs.defaultCertificate, SNICallback: certs.sniCallback }, handler);
    this.servers = [createServer(handler), tls];
    for (const server of this.servers) {
      server.requestTimeout = 10_000;
      server.headersTimeout = 10_000;
    }
    this.sites = new StaticSites(options.sitesDir);
  }

  private text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', ...headers });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.toLowerCase();
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (path.startsWith('/.well-known/acme-challenge/') && this.acme) {
      const answer = this.acme.challenge(url.pathname.slice('/.well-known/acme-challenge/'.length));
      if (answer) return this.text(res, 200, answer, 'application/octet-stream');
    }
    if (hostName.startsWith('mta-sts.') && this.hosted.isHostedDomain(hostName.slice('mta-sts.'.length))) {
      // RFC 8461 §3.3: the policy host serves the policy and nothing else.
      if (path !== '/.well-known/mta-sts.txt' || !this.options.mtaStsPolicy) return this.text(res, 404, 'Not found');
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.text(res, 405, 'Use GET', undefined, { allow: 'GET, HEAD' });
      return this.text(res, 200, this.options.mtaStsPolicy, 'text/plain', { 'cache-control': 'max-age=3600' });
    }
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
    const host = hostName.replace(/^www\./, '');
    if (!this.hosted.isHostedDomain(host)) return this.text(res, 404, 'No website by that name here');
    return this.sites.serve(host, req, res, url.pathname);
  }

  /** Listens on the HTTP and the HTTPS port. */
  async listen(): Promise<{ http: AddressInfo; https: AddressInfo }> {
    const [http, https] = await Promise.all(
      this.servers.map(
        (server, i) =>
          new Promise<AddressInfo>((resolve, reject) => {
            server.once('error', reject);
            server.listen(i === 0 ? this.options.port : this.options.tlsPort, this.options.host, () => resolve(server.address() as AddressInfo));
          }),
      ),
    );
    return { http: http!, https: https! };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((server) => {
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
      }),
    );
  }
}
