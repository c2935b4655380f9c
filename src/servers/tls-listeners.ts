import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
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

/** Gives a new connection to another process; false when this process serves it. */
export type HandOff = (socket: Socket, secure: boolean) => boolean;

/**
 * A protocol's two listeners, one plain (STARTTLS inside the protocol) and one with
 * implicit TLS (RFC 8314 §3.3), with one connection limit over both: past it a client is
 * told to come back, instead of exhausting memory and descriptors. New connections arrive
 * unread, so that `handOff` may pass one to a session worker (which takes it in `accept`)
 * with nothing of it consumed here; the TLS handshake happens where it is served.
 */
export class ListenerPair {
  private readonly plain: Server;
  private readonly implicit: Server;
  /** Never listens: it handshakes the connections given to it. */
  private readonly tls: TlsServer;
  private readonly sockets = new Set<Socket>();
  private readonly admitted: (socket: Socket, secure: boolean) => void;
  handOff: HandOff | undefined;

  constructor(
    private readonly options: ListenerPairOptions,
    tls: TlsMaterial,
    log: Logger,
    metrics: Metrics,
    onSocket: (socket: Socket, secure: boolean) => void,
  ) {
    this.admitted = (socket, secure) => {
      if (this.sockets.size >= options.maxClients) {
        metrics.connectionsRefused.inc({ protocol: options.protocol });
        socket.end(options.busyLine);
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      onSocket(socket, secure);
    };
    this.tls = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => this.admitted(socket, true));
    this.tls.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
    const arrived = (secure: boolean) => (socket: Socket) => {
      if (!this.handOff?.(socket, secure)) this.accept(socket, secure);
    };
    this.plain = createServer({ pauseOnConnect: true }, arrived(false));
    this.implicit = createServer({ pauseOnConnect: true }, arrived(true));
  }

  /** Serves a new connection here: one this process accepted, or one handed over by the main process. */
  accept(socket: Socket, secure: boolean): void {
    if (secure) this.tls.emit('connection', socket);
    else this.admitted(socket, false);
    socket.resume();
  }

  async listen(): Promise<{ plain: AddressInfo; tls: AddressInfo }> {
    const listen = (server: Server, port: number) =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.options.host, () => resolve(server.address() as AddressInfo));
      });
    return { plain: await listen(this.plain, this.options.ports.plain), tls: await listen(this.implicit, this.options.ports.tls) };
  }

  /**
   * Stops listening and says goodbye to open sessions; any still open after 2 s are cut.
   * Resolves when this process's sessions are closed: not on the listening servers' own
   * close, which never comes once a connection went to a worker that has ended (Node.js
   * keeps counting it).
   */
  async close(): Promise<void> {
    for (const s of [this.plain, this.implicit]) if (s.listening) s.close();
    const open = [...this.sockets];
    const closed = Promise.all(open.map((s) => new Promise((r) => (s.closed ? r(undefined) : s.once('close', r)))));
    for (const s of open) s.end(this.options.goodbyeLine);
    const cut = setTimeout(() => open.forEach((s) => s.destroy()), 2000);
    await closed;
    clearTimeout(cut);
  }
}
