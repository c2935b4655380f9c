/**
 * Wiring of the readers' servers, POP3 and IMAP (roles pop3, imap), beside wiring.ts: the
 * main process starts them on their ports; a session worker (session-worker.ts) starts them
 * without listening, to serve the connections the main process hands it.
 */
import { Authenticator, LoginRecorder, type SharedCounters } from './auth/index.js';
import type { Config } from './config/index.js';
import type { DirectoryCache } from './directory/index.js';
import type { MaildropLocks, MailStore } from './mailstore/index.js';
import type { Logger, Metrics } from './observability/index.js';
import { ImapServer, Pop3Server, type TlsMaterial } from './servers/index.js';
import type { Listener } from './wiring.js';
import type { PortalState } from './wiring-stores.js';

export interface ReaderDeps {
  readonly authenticator: Authenticator;
  readonly mailStore: MailStore;
  readonly tls: TlsMaterial;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Maildrop locks shared beyond this process (other nodes or the node's processes). */
  readonly locks?: MaildropLocks;
}

export interface Readers {
  readonly listeners: Listener[];
  /** The servers by protocol (pop3, imap): connections handed over are served with `accept`. */
  readonly servers: Map<string, Pop3Server | ImapServer>;
  close(): Promise<void>;
}

/**
 * Starts this node's POP3 and IMAP servers (those of its roles): listening on their ports,
 * or, in a session worker (`listen` false), serving only the connections handed to it.
 */
export async function startReaders(config: Config, deps: ReaderDeps, listen = true): Promise<Readers> {
  const listeners: Listener[] = [];
  const servers = new Map<string, Pop3Server | ImapServer>();
  const started = async (name: string, server: Pop3Server | ImapServer, note: string) => {
    servers.set(name, server);
    if (!listen) return;
    const { plain, tls } = await server.listen();
    listeners.push({ role: name, url: `${name}://${plain.address}:${plain.port}`, port: plain.port, note });
    listeners.push({ role: `${name}s`, url: `${name}s://${tls.address}:${tls.port}`, port: tls.port, note: 'implicit TLS' });
  };
  const close = async () => void (await Promise.all([...servers.values()].map((s) => s.close())));
  // What both protocols' servers are given alike.
  const ports = (p: 'pop3' | 'imap') => ({ plain: config[`${p}.port`], tls: config[`${p}.tlsPort`] });
  const session = (p: 'pop3' | 'imap') => ({
    hostname: config.hostname,
    idleTimeoutSeconds: config[`${p}.idleTimeoutSeconds`],
    maxClients: config[`${p}.maxClients`],
    maxUnauthenticatedCommands: config[`${p}.maxUnauthenticatedCommands`],
    storeTimeoutMs: config[`${p}.storeTimeoutMs`],
    plaintextLogin: config[`${p}.plaintextLogin`],
  });
  try {
    if (config.roles.includes('pop3')) {
      const pop3 = new Pop3Server(
        config['listen.host'],
        ports('pop3'),
        session('pop3'),
        deps.authenticator,
        deps.mailStore,
        deps.tls,
        deps.log.child({ mod: 'pop3' }),
        deps.metrics,
        deps.locks,
      );
      await started('pop3', pop3, 'STLS');
    }
    if (config.roles.includes('imap')) {
      const imap = new ImapServer(
        config['listen.host'],
        ports('imap'),
        { ...session('imap'), maxMessageBytes: config['smtp.maxMessageBytes'], maxLineBytes: config['imap.maxLineBytes'] },
        deps.authenticator,
        deps.mailStore,
        deps.tls,
        deps.log.child({ mod: 'imap' }),
        deps.metrics,
      );
      await started('imap', imap, 'STARTTLS');
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { listeners, servers, close };
}

/** The node's logins: password checks, failed-login counts (shared beyond this process with `shared`), last logins recorded in batches. */
export function loginsFor(config: Config, directory: DirectoryCache, loginState: PortalState, shared: SharedCounters | undefined, log: Logger): { authenticator: Authenticator; stop(): Promise<void> } {
  const authenticator = new Authenticator(directory, {
    failureDelayMs: config['auth.failureDelayMs'],
    cacheMs: config['auth.cacheSeconds'] * 1000,
    maxFailuresPerIp: config['auth.maxFailuresPerIp'],
    maxFailuresPerAccount: config['auth.maxFailuresPerAccount'],
    windowMs: config['auth.failureWindowSeconds'] * 1000,
    shared,
    onSharedError: (err: unknown) => log.warn({ err }, 'shared failed-login counts unavailable; this process counts by itself meanwhile'),
  });
  // Protocol logins show as the accounts' "last login" in the portal: written in batches.
  const logins = new LoginRecorder(loginState, 5000, (err) => log.warn({ err }, 'could not record last logins; the figures lag'));
  logins.start();
  authenticator.onLogin = (address, ip, protocol) => logins.record(address, { at: Date.now(), ip, protocol });
  return { authenticator, stop: () => logins.stop() };
}
