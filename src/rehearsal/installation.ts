/**
 * The installation a rehearsal runs against, on this machine: a schema of its own in the
 * given PostgreSQL, the fault proxy (`hikyaku fault-proxy`, its own process) in front of
 * it for the mailbox store's connections only, one front node (mx, pop3, portal: the
 * directory and the spool reached directly) and delivery processes, more of them added
 * while it runs. Each process logs to a file in the work directory; all are killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The niceness of delivery processes (0 is normal, 19 the lowest). */
const BACKGROUND_PRIORITY = 10;

const HIKYAKU = fileURLToPath(new URL('../../../bin/hikyaku.js', import.meta.url));

export interface InstallationPlan {
  /** postgres://HOST:PORT/DATABASE the rehearsal may make a schema in. */
  readonly database: string;
  readonly schema: string;
  /** Where the nodes' data directories and logs go. */
  readonly workDir: string;
  /** Configuration for every node (HIKYAKU_* variables). */
  readonly env: Readonly<Record<string, string>>;
}

export interface FrontPorts {
  readonly mx: number;
  readonly pop3: number;
  readonly portal: number;
  readonly metrics: number;
}

/** A free TCP port on 127.0.0.1 (taken by the OS, then released for a node to listen on). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** `postgres://h:p/db` with the schema parameter, and optionally another host:port (the proxy). */
export function storeUrl(database: string, schema: string, via?: string): string {
  const u = new URL(database);
  if (via) u.host = via;
  u.searchParams.set('schema', schema);
  return u.href;
}

/** Resolves with the first stdout line matching `pattern` (its match), once; rejects if the process exits first or after 60 s. */
function untilLine(child: ChildProcess, pattern: RegExp, what: string, log: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s (see ${log})`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it started (see ${log})`));
    });
  });
}

export class Installation {
  private readonly children: ChildProcess[] = [];
  private readonly deliveryMetrics: number[] = [];
  private proxyTarget = '';
  private proxyControl = '';
  private started = 0;
  private starting = 0;
  private stopping = false;
  /** Processes that ended while the rehearsal ran, with how. */
  readonly ended: string[] = [];
  front: FrontPorts = { mx: 0, pop3: 0, portal: 0, metrics: 0 };

  constructor(private readonly plan: InstallationPlan) {
    mkdirSync(plan.workDir, { recursive: true });
  }

  get directUrl(): string {
    return storeUrl(this.plan.database, this.plan.schema);
  }

  get proxiedUrl(): string {
    return storeUrl(this.plan.database, this.plan.schema, this.proxyTarget);
  }

  /** The fault proxy's control endpoint (http://…/). */
  get control(): string {
    return this.proxyControl;
  }

  /** The metrics ports of the delivery processes running. */
  get deliveryPorts(): readonly number[] {
    return this.deliveryMetrics;
  }

  private run(name: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: string } {
    const log = join(this.plan.workDir, `${name}.log`);
    const child = spawn(process.execPath, [HIKYAKU, ...args], { env: { ...process.env, ...this.plan.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(log);
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
    this.children.push(child);
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.ended.push(`${name} exited with ${signal ?? code} (see ${log})`);
    });
    return { child, log };
  }

  /** Starts the fault proxy in front of the database (healthy). */
  async startProxy(): Promise<void> {
    const db = new URL(this.plan.database);
    const { child, log } = this.run('fault-proxy', ['fault-proxy', '--to', `${db.hostname}:${db.port || 5432}`, '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0']);
    const m = await untilLine(child, /fault proxy ([\d.]+:\d+) -> .*control (http:\/\/[^\s]+\/)/, 'the fault proxy', log);
    this.proxyTarget = m[1]!;
    this.proxyControl = m[2]!;
  }

  private nodeEnv(roles: string, metrics: number): Record<string, string> {
    return {
      HIKYAKU_ROLES: roles,
      HIKYAKU_STORAGE_DIRECTORY: this.directUrl,
      HIKYAKU_STORAGE_SPOOL: this.directUrl,
      HIKYAKU_STORAGE_MAILSTORE: this.proxiedUrl,
      HIKYAKU_METRICS_LISTEN: `127.0.0.1:${metrics}`,
    };
  }

  /** Starts a node; `background` lowers its CPU priority (see deliveryProcesses). */
  private async startNode(name: string, env: Record<string, string>, background = false): Promise<void> {
    const dataDir = join(this.plan.workDir, name);
    mkdirSync(dataDir, { recursive: true });
    const { child, log } = this.run(name, ['--data-dir', dataDir, 'start'], env);
    if (background && child.pid) setPriority(child.pid, BACKGROUND_PRIORITY);
    await untilLine(child, /started/, name, log);
  }

  /** The front node: receiving, POP3, the member site and its status page. */
  async startFront(): Promise<void> {
    const [mx, pop3, pop3Tls, portal, metrics] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    this.front = { mx, pop3, portal, metrics };
    await this.startNode('front', { ...this.nodeEnv('mx,pop3,portal', metrics), HIKYAKU_MX_PORT: String(mx), HIKYAKU_POP3_PORT: String(pop3), HIKYAKU_POP3_TLS_PORT: String(pop3Tls), HIKYAKU_PORTAL_PORT: String(portal) });
  }

  /**
   * Starts delivery processes until `n` run (together, as an operator adding servers would).
   * In production they are servers of their own; on this one machine they run at a lower
   * CPU priority, so that draining a backlog flat out does not take the CPU from the front
   * node the readers are timed against (which another server's work never would).
   */
  async deliveryProcesses(n: number): Promise<void> {
    const more = Array.from({ length: Math.max(0, n - this.deliveryMetrics.length - this.starting) }, async () => {
      this.starting++;
      try {
        const metrics = await freePort();
        await this.startNode(`delivery-${++this.started}`, this.nodeEnv('delivery', metrics), true);
        this.deliveryMetrics.push(metrics);
      } finally {
        this.starting--;
      }
    });
    await Promise.all(more);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}
