import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import type { Client } from 'acme-client';

// acme-client (and axios under it) loads only where ACME is configured.
const acmeClient = () => import('acme-client');
import type { Logger } from '../../observability/index.js';
import { certificatePaths, siteNames, writeCertificate, type SiteCertificates } from './certificates.js';

export interface AcmeOptions {
  /** The CA's ACME directory (RFC 8555 §7.1.1), e.g. Let's Encrypt's. */
  readonly directoryUrl: string;
  /** The account's contact address; '' for none. */
  readonly email: string;
  /** A CA certificate to trust for the ACME server's own HTTPS (a private or test CA); '' for the system's. */
  readonly caFile: string;
}

const DAY = 86_400_000;
// A certificate is renewed when it has less than this left (Let's Encrypt's advice: a third of 90 days).
const RENEW_BEFORE_MS = 30 * DAY;
// A domain whose order failed is tried again after this long.
const RETRY_MS = 60 * 60_000;
// New domains get their certificate within a minute.
const SWEEP_MS = 60_000;

/**
 * Certificates from an ACME CA (RFC 8555) for each hosted domain that has no certificate
 * files of the operator's: HTTP-01 challenges answered by the web role itself, renewal 30 days
 * before expiry, a failed order tried again an hour later (the self-signed one answers meanwhile).
 */
export class AcmeIssuer {
  private readonly tokens = new Map<string, string>();
  private readonly failedAt = new Map<string, number>();
  /** When each domain's ACME certificate expires (ms), as last read. */
  private readonly expires = new Map<string, number>();
  private client: Client | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private busy = false;

  constructor(
    private readonly options: AcmeOptions,
    private readonly dir: string,
    private readonly certs: SiteCertificates,
    private readonly log: Logger,
  ) {}

  /** Every token being answered now, for the web workers. */
  tokenList(): [string, string][] {
    return [...this.tokens];
  }

  /** The key authorization for an HTTP-01 token (served at /.well-known/acme-challenge/<token>). */
  challenge(token: string): string | undefined {
    return this.tokens.get(token);
  }

  private async account(): Promise<Client> {
    if (this.client) return this.client;
    const acme = await acmeClient();
    const keyPath = join(this.dir, 'acme', 'account.key');
    await mkdir(join(this.dir, 'acme'), { recursive: true, mode: 0o700 });
    if (!existsSync(keyPath)) await writeFile(keyPath, await acme.crypto.createPrivateKey(), { mode: 0o600 });
    if (this.options.caFile) acme.axios.defaults.httpsAgent = new Agent({ ca: await readFile(this.options.caFile) });
    this.client = new acme.Client({ directoryUrl: this.options.directoryUrl, accountKey: await readFile(keyPath) });
    return this.client;
  }

  /** Whether the domain needs a certificate from the CA now: no operator files, and no ACME one with 30 days left. */
  needs(domain: string, now = Date.now()): boolean {
    const [files, issued] = certificatePaths(this.dir, domain);
    if (existsSync(files!.cert)) return false;
    let expires = this.expires.get(domain);
    if (expires === undefined) {
      if (!existsSync(issued!.cert)) return true;
      try {
        expires = Date.parse(new X509Certificate(readFileSync(issued!.cert)).validTo);
      } catch {
        return true;
      }
      this.expires.set(domain, expires);
    }
    return expires - now < RENEW_BEFORE_MS;
  }

  /** Orders the domain's certificate (all its site names) and installs it; false when the order failed. */
  async issue(domain: string): Promise<boolean> {
    try {
      const client = await this.account();
      const acme = await acmeClient();
      const [key, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: siteNames(domain) });
      const cert = await client.auto({
        csr,
        email: this.options.email || undefined,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks it; checking it ourselves would need port 80 on this host.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => void this.tokens.set(challenge.token, keyAuthorization),
        challengeRemoveFn: async (_authz, challenge) => void this.tokens.delete(challenge.token),
      });
      const issued = certificatePaths(this.dir, domain)[1]!;
      await writeCertificate(issued, key.toString(), cert);
      const validTo = new X509Certificate(cert).validTo;
      this.expires.set(domain, Date.parse(validTo));
      this.certs.forget(domain);
      this.failedAt.delete(domain);
      this.log.info({ domain, validTo }, 'certificate issued by the ACME CA');
      return true;
    } catch (err) {
      this.failedAt.set(domain, Date.now());
      this.log.warn({ err, domain }, 'the ACME order failed; the self-signed certificate answers until the next try');
      return false;
    }
  }

  /** One pass over the domains: orders what is missing or due, one domain at a time. */
  sweep(domains: readonly string[]): Promise<void> {
    this.busy = true;
    this.running = this.running.then(async () => {
      for (const d of domains) {
        const failed = this.failedAt.get(d);
        if (this.stopped || (failed !== undefined && Date.now() - failed < RETRY_MS)) continue;
        if (this.needs(d)) await this.issue(d);
      }
      this.busy = false;
    });
    return this.running;
  }

  /** Sweeps now, every minute, and within a second of a directory change (a domain added); returns the stop. */
  start(domains: () => readonly string[], version: () => number): () => Promise<void> {
    let seen = version();
    let last = Date.now();
    void this.sweep(domains());
    // One pass at a time: a slow CA never stacks passes up.
    const timer = setInterval(() => {
      if (this.busy || (version() === seen && Date.now() - last < SWEEP_MS)) return;
      seen = version();
      last = Date.now();
      void this.sweep(domains());
    }, 1000);
    timer.unref();
    return async () => {
      this.stopped = true;
      clearInterval(timer);
      await this.running;
    };
  }
}
