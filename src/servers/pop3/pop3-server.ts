import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Authenticator } from '../../auth/index.js';
import { LocalMaildropLocks, type MaildropLocks, type MailStore } from '../../mailstore/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { ListenerPair, type HandOff } from '../tls-listeners.js';
import { Pop3Session, type Pop3Options } from './session.js';

/** The pop3 role: POP3 with STLS on one port, implicit TLS on another (RFC 8314 §3.3). */
export class Pop3Server {
  private readonly listeners: ListenerPair;

  constructor(
    host: string,
    ports: { plain: number; tls: number },
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
    this.listeners = new ListenerPair(
      { host, ports, maxClients: options.maxClients, protocol: 'pop3', busyLine: '-ERR [SYS/TEMP] Too many connections; try again in a minute\r\n', goodbyeLine: '-ERR [SYS/TEMP] Server shutting down\r\n' },
      tls,
      log,
      metrics,
      (socket, secure) => new Pop3Session(socket, secure, deps),
    );
  }

  listen(): Promise<{ plain: AddressInfo; tls: AddressInfo }> {
    return this.listeners.listen();
  }

  /** Serves a connection accepted by another process (a session worker's, from the main process). */
  accept(socket: Socket, secure: boolean): void {
    this.listeners.accept(socket, secure);
  }

  /** Where new connections may go instead of being served here (the main process's rotation over session workers). */
  set handOff(handOff: HandOff | undefined) {
    this.listeners.handOff = handOff;
  }

  /** Stops listening and ends open sessions without entering UPDATE (nothing is deleted). */
  close(): Promise<void> {
    return this.listeners.close();
  }
}
