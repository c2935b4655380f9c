import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Connection, Server } from 'ssh2';
import type { LoginFailure } from '../../auth/index.js';
import type { Logger } from '../../observability/index.js';
import type { SiteFiles, SiteLogins } from '../../sites/index.js';

export interface SftpOptions {
  readonly host: string;
  readonly port: number;
  /** The server's Ed25519 host key (OpenSSH format), made on first start. */
  readonly hostKeyPath: string;
  /** Each site's quota in bytes; 0: none. */
  readonly quotaBytes: number;
  readonly maxClients: number;
  /** A connection quiet this long is closed. */
  readonly idleMs: number;
}

/** What the SFTP logins need: the hosted domains, and one check shared with every other login (throttling). */
export interface SiteLoginCheck {
  isHostedDomain(domain: string): boolean;
  loginSite(domain: string, hash: string | undefined, password: string, remoteIp: string): Promise<{ ok: true } | LoginFailure>;
}

async function hostKey(path: string): Promise<Buffer> {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, await newHostKey(), { mode: 0o600 });
  }
  return readFileSync(path);
}

/**
 * A new ed25519 host key in OpenSSH format. ssh2 makes, about once in 400, a key that its own
 * parser then refuses ("Malformed OpenSSH private key"), and the service would not start; such
 * a key is thrown away and another made.
 */
export async function newHostKey(): Promise<string> {
  const { default: ssh2 } = await import('ssh2');
  for (let tries = 1; ; tries++) {
    const key = ssh2.utils.generateKeyPairSync('ed25519').private;
    if (!(ssh2.utils.parseKey(key) instanceof Error) || tries >= 20) return key;
  }
}

/**
 * SFTP for website uploads (ssh2): one login per hosted domain (user name: the domain,
 * password: set by its administrator in the member site), each confined to its site's
 * folder. Only the sftp subsystem is offered: no shell, no commands, no forwarding.
 */
export class SftpServer {
  private server: Server | undefined;
  private clients = 0;
  private newSession: ((...args: ConstructorParameters<typeof import('./site-sftp.js').SiteSftpSession>) => import('./site-sftp.js').SiteSftpSession) | undefined;

  constructor(
    private readonly options: SftpOptions,
    private readonly files: SiteFiles,
    private readonly logins: SiteLogins,
    private readonly check: SiteLoginCheck,
    private readonly log: Logger,
  ) {}

  private accept(client: Connection, ip: string): void {
    this.clients++;
    let domain: string | undefined;
    const sessions: { end(): Promise<void> }[] = [];
    // ssh2 keeps the connection's socket here; its idle timeout is the one way to close a quiet client.
    const sock = (client as unknown as { _sock?: import('node:net').Socket })._sock;
    sock?.setTimeout(this.options.idleMs, () => client.end());
    client.on('error', (err: Error) => this.log.debug({ err, ip }, 'sftp connection error'));
    client.on('close', () => {
      this.clients--;
      for (const s of sessions) void s.end();
    });
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      const name = ctx.username.trim().toLowerCase();
      void (async () => {
        const hosted = this.check.isHostedDomain(name);
        const hash = hosted ? await this.logins.hash(name) : undefined;
        const result = await this.check.loginSite(name, hash, ctx.password, ip);
        if (result.ok) {
          domain = name;
          this.log.info({ domain, ip }, 'sftp login');
          return ctx.accept();
        }
        this.log.info({ user: name.slice(0, 100), ip, reason: result.reason }, 'sftp login refused');
        ctx.reject(['password']);
      })().catch((err: unknown) => {
        this.log.error({ err }, 'sftp login failed');
        ctx.reject();
      });
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          sessions.push(this.newSession!(acceptSftp(), this.files, domain!, this.options.quotaBytes));
        });
        for (const refused of ['exec', 'shell', 'pty', 'x11', 'subsystem'] as const) {
          session.on(refused as 'exec', (_accept: unknown, reject?: () => void) => reject?.());
        }
      });
      client.on('tcpip', (_accept, reject) => reject());
      client.on('request', (_accept, reject) => reject?.());
    });
  }

  async listen(): Promise<AddressInfo> {
    // ssh2 loads with the web role only (the CLI and the other roles never need it).
    const [{ default: ssh2 }, { SiteSftpSession }] = await Promise.all([import('ssh2'), import('./site-sftp.js')]);
    this.newSession = (...args) => new SiteSftpSession(...args);
    const server = new ssh2.Server({ hostKeys: [await hostKey(this.options.hostKeyPath)], ident: 'Hikyaku-SFTP' }, (client, info) => this.accept(client, info.ip));
    server.maxConnections = this.options.maxClients;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve(server.address() as AddressInfo));
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) await new Promise((r) => server.close(r));
  }
}
