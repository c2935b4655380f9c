import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger, Metrics } from '../observability/index.js';
import type { TlsMaterial } from './tls.js';

export interface ListenerPairOptions {
  readonly host: string;
  readonly ports: { readonly plain: number; readonly tls: number };
  readonly maxClients: number;
  /** For the refused-connections metric. */
  readonly protocol: string;
  /** What a client past the connection limit is told before the connection closes. */
  readonly busyLine: string;
  /** What open sessions are told at shutdown. */
  readonly goodbyeLine: string;
}

/**
 * A protocol's two listeners, one plain (STARTTLS inside the protocol) and one with
 * implicit TLS (RFC 8314 §3.3), with one connection limit over both: past it a client is
 * told to come back, instead of exhausting memory and descriptors.
 */
export class ListenerPair {
  private readonly plain: Server;
  private readonly implicit: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: ListenerPairOptions,
    tls: TlsMaterial,
    log: Logger,
    metrics: Metrics,
    onSocket: (socket: Socket, secure: boolean) => void,
  ) {
    const admit = (socket: Socket): boolean => {
      if (this.sockets.size >= options.maxClients) {
        metrics.connectionsRefused.inc({ protocol: options.protocol });
        socket.end(options.busyLine);
        return false;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      return true;
    };
    this.plain = createServer((socket) => {
      if (admit(socket)) onSocket(socket, false);
    });
    this.implicit = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => {
      if (admit(socket)) onSocket(socket, true);
    });
    this.implicit.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
  }

  async listen(): Promise<{ plain: AddressInfo; tls: AddressInfo }> {
    const listen = (server: Server, port: number) =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.options.host, () => resolve(server.address() as AddressInfo));
      });
    return { plain: await listen(this.plain, this.options.ports.plain), tls: await listen(this.implicit, this.options.ports.tls) };
  }

  /** Stops listening and says goodbye to open sessions; any still open after 2 s are cut. */
  async close(): Promise<void> {
    const closed = Promise.all([this.plain, this.implicit].map((s) => new Promise((r) => s.close(r))));
    for (const s of this.sockets) s.end(this.options.goodbyeLine);
    setTimeout(() => this.sockets.forEach((s) => s.destroy()), 2000).unref();
    await closed;
  }
}
