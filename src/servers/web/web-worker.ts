import { createServer, type Server } from 'node:http';
import type { ClientSettings } from '../../autoconfig/index.js';
import { createLogger } from '../../observability/index.js';
import { WebHandler, type WebHandlerOptions } from './web-handler.js';

/** What a worker is told: the hosted domains and the ACME tokens being answered. */
export interface WorkerState {
  readonly domains: readonly string[];
  readonly challenges: readonly (readonly [string, string])[];
}

export interface WorkerInit {
  readonly type: 'init';
  readonly options: WebHandlerOptions;
  readonly settings: ClientSettings;
  readonly logLevel: string;
  readonly state: WorkerState;
}

/**
 * A web worker process (WebServer forks it with the HTTP socket): answers plain HTTP as the
 * main process does, from what the main process tells it. It ends with its parent.
 */
let domains = new Set<string>();
let challenges = new Map<string, string>();
let server: Server | undefined;

const apply = (s: WorkerState) => {
  domains = new Set(s.domains);
  challenges = new Map(s.challenges);
};

process.on('message', (m: WorkerInit | { type: 'state'; state: WorkerState }, handle?: unknown) => {
  if (m.type === 'state') return apply(m.state);
  if (server) return;
  apply(m.state);
  const log = createLogger(m.logLevel).child({ mod: 'web', worker: process.pid });
  const handler = new WebHandler(m.options, { isHostedDomain: (d) => domains.has(d) }, m.settings, { challenge: (t) => challenges.get(t) }, log);
  server = createServer(handler.listener);
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.listen(handle as Server);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
