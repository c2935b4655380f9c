import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ClientSettings } from '../../autoconfig/index.js';
import type { Logger } from '../../observability/index.js';
import type { SiteCertificates } from './certificates.js';
import type { AcmeIssuer } from './acme.js';
import { WebHandler, type HostedDomains, type WebHandlerOptions } from './web-handler.js';
import type { WorkerInit, WorkerState } from './web-worker.js';

export interface WebOptions extends WebHandlerOptions {
  readonly host: string;
  readonly port: number;
  /** The HTTPS port, with each domain's certificate by SNI. */
  readonly tlsPort: number;
  /** Processes answering plain HTTP: this one and processes - 1 workers sharing its socket (as nginx's worker_processes). */
  readonly processes: number;
  readonly logLevel: string;
}

const WORKER = fileURLToPath(new URL('./web-worker.js', import.meta.url));

/**
 * The web role's listeners: HTTP and HTTPS (a certificate per domain by SNI) in this
 * process, and worker processes that accept on the same HTTP socket, each told the hosted
 * domains and the ACME tokens whenever they change (checked every second).
 */
export class WebServer {
  private readonly servers: Server[];
  private readonly handler: WebHandler;
  private readonly workers: ChildProcess[] = [];
  private sentState = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: WebOptions,
    private readonly hosted: HostedDomains & { domains(): { name: string }[] },
    private readonly settings: ClientSettings,
    certs: SiteCertificates,
    private readonly acme: AcmeIssuer | undefined,
    private readonly log: Logger,
  ) {
    this.handler = new WebHandler(options, hosted, settings, acme, log);
    const tls = createHttpsServer({ ...certs.defaultCertificate, SNICallback: certs.sniCallback }, this.handler.listener);
    this.servers = [createServer(this.handler.listener), tls];
    for (const server of this.servers) {
      server.requestTimeout = 10_000;
      server.headersTimeout = 10_000;
    }
  }

  private state(): WorkerState {
    return { domains: this.hosted.domains().map((d) => d.name), challenges: this.acme?.tokenList() ?? [] };
  }

  /** Tells the workers what changed since the last time. */
  private sync(): void {
    const state = this.state();
    const text = JSON.stringify(state);
    if (text === this.sentState) return;
    this.sentState = text;
    for (const w of this.workers) if (w.connected) w.send({ type: 'state', state });
  }

  /** Listens on the HTTP and the HTTPS port, then starts the workers on the HTTP socket. */
  async listen(): Promise<{ http: AddressInfo; https: AddressInfo }> {
    const [http, https] = await Promise.all(
      this.servers.map(
        (server, i) =>
          new Promise<AddressInfo>((resolve, reject) => {
            server.once('error', reject);
            server.listen(i === 0 ? this.options.port : this.options.tlsPort, this.options.host, () => resolve(server.address() as AddressInfo));
          }),
      ),
    );
    for (let i = 1; i < this.options.processes; i++) {
      const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('exit', (code, signal) => {
        if (this.timer) this.log.error({ code, signal }, 'a web worker ended; this process still answers');
      });
      const init: WorkerInit = { type: 'init', options: { sitesDir: this.options.sitesDir, mtaStsPolicy: this.options.mtaStsPolicy }, settings: this.settings, logLevel: this.options.logLevel, state: this.state() };
      child.send(init, this.servers[0]!);
      this.workers.push(child);
    }
    if (this.workers.length) {
      this.timer = setInterval(() => this.sync(), 1000);
      this.timer.unref();
    }
    return { http: http!, https: https! };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(
      this.workers.map((w) => new Promise((r) => (w.exitCode !== null || w.signalCode !== null ? r(undefined) : (w.once('exit', r), w.kill('SIGTERM'))))),
    );
    await Promise.all(
      this.servers.map((server) => {
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
      }),
    );
  }
}
