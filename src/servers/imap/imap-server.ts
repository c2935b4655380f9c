import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Authenticator } from '../../auth/index.js';
import type { MailStore } from '../../mailstore/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { ListenerPair, type HandOff } from '../tls-listeners.js';
import type { ImapOptions } from './context.js';
import { MessageCache } from './message-cache.js';
import { ImapSession } from './session.js';
import { ChangeWatcher } from './watcher.js';

// How often IDLE sessions' folders are checked for news: within a second of a delivery.
const IDLE_POLL_MS = 250;

/** The imap role: IMAP with STARTTLS on one port, implicit TLS on another (RFC 8314 §3.3). */
export class ImapServer {
  private readonly listeners: ListenerPair;
  private readonly watcher: ChangeWatcher;

  constructor(host: string, ports: { plain: number; tls: number }, options: ImapOptions, authenticator: Authenticator, mailStore: MailStore, tls: TlsMaterial, log: Logger, metrics: Metrics) {
    const secureContext = createSecureContext({ key: tls.key, cert: tls.cert });
    this.watcher = new ChangeWatcher(mailStore, IDLE_POLL_MS, options.storeTimeoutMs, log);
    const deps = { authenticator, mailStore, tls: secureContext, options, log, metrics, cache: new MessageCache(), watcher: this.watcher };
    this.listeners = new ListenerPair(
      // RFC 9051 §7.1.5: BYE, with RFC 5530's UNAVAILABLE when we are full.
      { host, ports, maxClients: options.maxClients, protocol: 'imap', busyLine: '* BYE [UNAVAILABLE] Too many connections; try again in a minute\r\n', goodbyeLine: '* BYE Server shutting down\r\n' },
      tls,
      log,
      metrics,
      (socket, secure) => new ImapSession(socket, secure, deps),
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

  async close(): Promise<void> {
    this.watcher.stop();
    await this.listeners.close();
  }
}
