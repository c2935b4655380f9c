import { createServer, type AddressInfo, type Server } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { Authenticator } from '../../auth/index.js';
import { LocalMaildropLocks, type MaildropLocks, type MailStore } from '../../mailstore/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { Pop3Session, type Pop3Options } from './session.js';

/** The pop3 role: POP3 with STLS on one port, implicit TLS on another (RFC 8314 §3.3). */
export class Pop3Server {
  private readonly plain: Server;
  private readonly implicit: Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    private readonly host: string,
    private readonly ports: { plain: number; tls: number },
    options: Pop3Options,
    authenticator: Authenticator,
    mailStore: MailStore,
    tls: TlsMaterial,
    log: Logger,
    metrics: Metrics,
    locks: MaildropLocks = new LocalMaildropLocks(),
  ) {
    const secureContext = createSecureContext({ key: tls.key, cert: tls.cert });
    const deps = { authenticator, mailStore, locks, tls: secureContext, options, log, metrics };
    // Past the connection limit a client is told to come back, instead of exhausting memory and descriptors.
    const admit = (socket: import('node:net').Socket): boolean => {
      if (this.sockets.size >= options.maxClients) {
        metrics.connectionsRefused.inc({ protocol: 'pop3' });
        socket.end('-ERR [SYS/TEMP] Too many connections; try again in a minute\r\n');
        return false;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      return true;
    };
    this.plain = createServer((socket) => {
      if (admit(socket)) new Pop3Session(socket, false, deps);
    });
    this.implicit = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
      if (admit(socket)) new Pop3Session(socket, true, deps);
    });
    this.implicit.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
  }

  async listen(): Promise<{ plain: AddressInfo; tls: AddressInfo }> {
    const listen = (server: Server, port: number) =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.host, () => resolve(server.address() as AddressInfo));
      });
    return { plain: await listen(this.plain, this.ports.plain), tls: await listen(this.implicit, this.ports.tls) };
  }

  /** Stops listening and ends open sessions without entering UPDATE (nothing is deleted). */
  async close(): Promise<void> {
    const closed = Promise.all([this.plain, this.implicit].map((s) => new Promise((r) => s.close(r))));
    for (const s of this.sockets) s.end('-ERR [SYS/TEMP] Server shutting down\r\n');
    setTimeout(() => this.sockets.forEach((s) => s.destroy()), 2000).unref();
    await closed;
  }
}
