import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { Authenticator } from '../../auth/index.js';
import type { MailStore } from '../../mailstore/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import type { ImapOptions } from './context.js';
import { MessageCache } from './message-cache.js';
import { ImapSession } from './session.js';
import { ChangeWatcher } from './watcher.js';

// How often IDLE sessions' folders are checked for news: within a second of a delivery.
const IDLE_POLL_MS = 250;

/** The imap role: IMAP with STARTTLS on one port, implicit TLS on another (RFC 8314 §3.3). */
export class ImapServer {
  private readonly plain: Server;
  private readonly implicit: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watcher: ChangeWatcher;

  constructor(
    private readonly host: string,
    private readonly ports: { plain: number; tls: number },
    options: ImapOptions,
    authenticator: Authenticator,
    mailStore: MailStore,
    tls: TlsMaterial,
    log: Logger,
    metrics: Metrics,
  ) {
    const secureContext = createSecureContext({ key: tls.key, cert: tls.cert });
    this.watcher = new ChangeWatcher(mailStore, IDLE_POLL_MS, options.storeTimeoutMs, log);
    const deps = { authenticator, mailStore, tls: secureContext, options, log, metrics, cache: new MessageCache(), watcher: this.watcher };
    // Past the connection limit a client is told to come back, instead of exhausting memory and descriptors.
    const admit = (socket: Socket): boolean => {
      if (this.sockets.size >= options.maxClients) {
        metrics.connectionsRefused.inc({ protocol: 'imap' });
        socket.end('* BYE [UNAVAILABLE] Too many connections; try again in a minute\r\n');
        return false;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      return true;
    };
    this.plain = createServer((socket) => {
      if (admit(socket)) new ImapSession(socket, false, deps);
    });
    this.implicit = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
      if (admit(socket)) new ImapSession(socket, true, deps);
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

  /** Stops listening and says goodbye to open sessions (RFC 9051 §7.1.5 BYE). */
  async close(): Promise<void> {
    this.watcher.stop();
    const closed = Promise.all([this.plain, this.implicit].map((s) => new Promise((r) => s.close(r))));
    for (const s of this.sockets) s.end('* BYE Server shutting down\r\n');
    setTimeout(() => this.sockets.forEach((s) => s.destroy()), 2000).unref();
    await closed;
  }
}
