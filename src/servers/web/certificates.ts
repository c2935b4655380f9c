import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from '../../observability/index.js';
import { selfSigned } from '../tls.js';

/** What the certificates need of the directory: which domains are hosted. */
export interface HostedNames {
  isHostedDomain(domain: string): boolean;
}

/** The names a domain's certificate covers: the website, MTA-STS and client autoconfiguration. */
export const SITE_PREFIXES = ['www', 'mta-sts', 'autoconfig', 'autodiscover'] as const;
export const siteNames = (domain: string): string[] => [domain, ...SITE_PREFIXES.map((p) => `${p}.${domain}`)];

// Replaced files are picked up this soon.
const RECHECK_MS = 30_000;

interface Loaded {
  readonly context: SecureContext;
  readonly source: string;
  readonly mtimeMs: number;
  checkedAt: number;
}

/** Where a domain's certificate comes from, in order: the operator's files, an ACME-issued one, a self-signed one made here. */
export function certificatePaths(dir: string, domain: string): { kind: string; cert: string; key: string }[] {
  return [
    { kind: 'files', cert: join(dir, `${domain}.crt`), key: join(dir, `${domain}.key`) },
    { kind: 'acme', cert: join(dir, 'acme', `${domain}.crt`), key: join(dir, 'acme', `${domain}.key`) },
    { kind: 'self-signed', cert: join(dir, 'self-signed', `${domain}.crt`), key: join(dir, 'self-signed', `${domain}.key`) },
  ];
}

/**
 * A TLS certificate for each hosted domain, chosen by SNI: the files the operator put in
 * `dir` (<domain>.crt with its chain, <domain>.key), else the one ACME issued, else a
 * self-signed one made on first use and kept (so a browser's exception lasts). Names
 * without SNI or of no hosted domain get the host's own certificate.
 */
/**
 * Writes a certificate's key, then the certificate, each to a temporary file renamed into
 * place: a reader (this process's recheck, a worker, a test) never sees a half-written file,
 * and, as the certificate goes last and a reload follows its mtime, never a new key beside
 * an old certificate for long.
 */
export async function writeCertificate(paths: { cert: string; key: string }, key: string, cert: string): Promise<void> {
  for (const [path, data, mode] of [[paths.key, key, 0o600], [paths.cert, cert, 0o644]] as const) {
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  }
}

export class SiteCertificates {
  private readonly loaded = new Map<string, Loaded>();
  private readonly making = new Map<string, Promise<Loaded>>();

  constructor(
    private readonly dir: string,
    private readonly hosted: HostedNames,
    private readonly fallback: { readonly key: Buffer; readonly cert: Buffer },
    private readonly log: Logger,
  ) {}

  /** The hosted domain a TLS server name belongs to (the name itself, or one of SITE_PREFIXES under it). */
  domainOf(servername: string): string | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    if (this.hosted.isHostedDomain(name)) return name;
    const dot = name.indexOf('.');
    const prefix = name.slice(0, dot);
    const rest = name.slice(dot + 1);
    return dot > 0 && (SITE_PREFIXES as readonly string[]).includes(prefix) && this.hosted.isHostedDomain(rest) ? rest : undefined;
  }

  /** For tls.createServer's SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const domain = this.domainOf(servername);
    if (!domain) return cb(null, undefined);
    this.contextFor(domain).then(
      (l) => cb(null, l.context),
      (err: unknown) => {
        this.log.warn({ err, domain }, 'no certificate for the domain; the host certificate answers');
        cb(null, undefined);
      },
    );
  };

  /** Where the domain's certificate comes now: files, acme or self-signed. */
  async sourceOf(domain: string): Promise<string> {
    return (await this.contextFor(domain)).source;
  }

  /** Forget what was loaded for `domain` (a new certificate was written). */
  forget(domain: string): void {
    this.loaded.delete(domain);
  }

  private async contextFor(domain: string): Promise<Loaded> {
    const have = this.loaded.get(domain);
    if (have && Date.now() - have.checkedAt < RECHECK_MS) return have;
    let pending = this.making.get(domain);
    if (!pending) {
      pending = this.load(domain, have).finally(() => this.making.delete(domain));
      this.making.set(domain, pending);
    }
    return pending;
  }

  private async load(domain: string, have: Loaded | undefined): Promise<Loaded> {
    for (const p of certificatePaths(this.dir, domain)) {
      const s = await stat(p.cert).catch(() => undefined);
      if (!s) continue;
      if (have && have.source === p.kind && have.mtimeMs === s.mtimeMs) {
        have.checkedAt = Date.now();
        return have;
      }
      try {
        const context = createSecureContext({ cert: await readFile(p.cert), key: await readFile(p.key) });
        const l = { context, source: p.kind, mtimeMs: s.mtimeMs, checkedAt: Date.now() };
        this.loaded.set(domain, l);
        return l;
      } catch (err) {
        this.log.error({ err, cert: p.cert }, 'a certificate file cannot be used; trying the next');
      }
    }
    const own = certificatePaths(this.dir, domain).find((p) => p.kind === 'self-signed')!;
    const pems = await selfSigned(domain, siteNames(domain));
    await mkdir(join(this.dir, 'self-signed'), { recursive: true, mode: 0o700 });
    await writeCertificate(own, pems.private, pems.cert);
    this.log.info({ domain }, 'made a self-signed certificate for the domain');
    const l = { context: createSecureContext({ cert: pems.cert, key: pems.private }), source: own.kind, mtimeMs: (await stat(own.cert)).mtimeMs, checkedAt: Date.now() };
    this.loaded.set(domain, l);
    return l;
  }

  /** The host's own certificate, for connections without SNI or for other names. */
  get defaultCertificate(): { readonly key: Buffer; readonly cert: Buffer } {
    return this.fallback;
  }
}
