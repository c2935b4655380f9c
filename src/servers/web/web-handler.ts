import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Where the answers to ACME HTTP-01 challenges come from (the issuer, or a worker's copy of its tokens). */
export interface AcmeChallenges {
  challenge(token: string): string | undefined;
}

export interface WebHandlerOptions {
  readonly sitesDir: string;
  /** The MTA-STS policy served at mta-sts.<domain>; undefined when none is published. */
  readonly mtaStsPolicy: string | undefined;
}

/**
 * What the web role answers, by the Host header: ACME challenges, the MTA-STS policy at
 * mta-sts.<domain>, client autoconfiguration (Thunderbird's /mail/config-v1.1.xml and
 * /.well-known/autoconfig/…, Outlook's POST /autodiscover/autodiscover.xml), and each
 * hosted domain's static website. The same in the main process and in its web workers.
 */
export class WebHandler {
  private readonly sites: StaticSites;

  constructor(
    private readonly options: WebHandlerOptions,
    private readonly hosted: HostedDomains,
    private readonly settings: ClientSettings,
    private readonly acme: AcmeChallenges | undefined,
    private readonly log: Logger,
  ) {
    this.sites = new StaticSites(options.sitesDir);
  }

  /** For http.createServer: answers, or 500 (and the cause in the log). */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((err: unknown) => {
      this.log.error({ err }, 'web request failed');
      if (!res.headersSent) this.text(res, 500, 'Internal error');
      else res.destroy();
    });
  };

  private text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', ...headers });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    // The path as sent (the static sites decode and normalize it themselves); the query is read where needed.
    const pathname = raw.startsWith('/') ? (q < 0 ? raw : raw.slice(0, q)) : new URL(raw, 'http://localhost').pathname;
    const path = pathname.toLowerCase();
    const hostHeader = req.headers.host ?? '';
    const colon = hostHeader.lastIndexOf(':');
    const hostName = (colon > hostHeader.lastIndexOf(']') ? hostHeader.slice(0, colon) : hostHeader).toLowerCase();
    if (path.startsWith('/.well-known/acme-challenge/') && this.acme) {
      const answer = this.acme.challenge(pathname.slice('/.well-known/acme-challenge/'.length));
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
      const domain = domainOf(req, new URL(raw, 'http://localhost'), this.hosted);
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
    const host = hostName.startsWith('www.') ? hostName.slice(4) : hostName;
    if (!this.hosted.isHostedDomain(host)) return this.text(res, 404, 'No website by that name here');
    return this.sites.serve(host, req, res, pathname);
  }
}
