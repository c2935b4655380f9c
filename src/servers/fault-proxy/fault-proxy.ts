/**
 * A TCP proxy that makes a dependency sick on purpose (DESIGN.md principle 7): put it
 * between Hikyaku and PostgreSQL (or anything on TCP) and change, while it runs, the latency
 * added to every chunk in each direction, a bandwidth cap per connection, dropping the open
 * connections (now, or every few seconds) and refusing new ones. Bytes pass unchanged and
 * in order. Controlled over a small HTTP endpoint (JSON).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ProxyFaults {
  /** Added to every chunk, each way (ms). */
  readonly latencyMs: number;
  /** Most bytes per second each way per connection; 0: no cap. */
  readonly bandwidthBytesPerSecond: number;
  /** New connections are reset at once. */
  readonly refuse: boolean;
  /** Every this many seconds the open connections are dropped; 0: never. */
  readonly dropEverySeconds: number;
}

export const HEALTHY: ProxyFaults = { latencyMs: 0, bandwidthBytesPerSecond: 0, refuse: false, dropEverySeconds: 0 };

const LIMITS: Record<keyof ProxyFaults, [number, number] | 'boolean'> = {
  latencyMs: [0, 600_000],
  bandwidthBytesPerSecond: [0, 10_000_000_000],
  refuse: 'boolean',
  dropEverySeconds: [0, 86_400],
};

/** A change of the faults from JSON: only known keys, each in range; a sentence otherwise. */
export function parseFaults(current: ProxyFaults, body: unknown): ProxyFaults {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('send a JSON object such as {"latencyMs": 20}');
  const next: Record<string, number | boolean> = { ...current };
  for (const [k, v] of Object.entries(body)) {
    const limit = LIMITS[k as keyof ProxyFaults];
    if (!limit) throw new Error(`unknown setting "${k}"; the settings are ${Object.keys(LIMITS).join(', ')}`);
    if (limit === 'boolean') {
      if (typeof v !== 'boolean') throw new Error(`${k} must be true or false`);
    } else if (typeof v !== 'number' || !Number.isInteger(v) || v < limit[0] || v > limit[1]) {
      throw new Error(`${k} must be a whole number from ${limit[0]} to ${limit[1]}`);
    }
    next[k] = v;
  }
  return next as unknown as ProxyFaults;
}

/** Held back bytes above which the sending side is paused (its TCP window then closes). */
const HIGH_WATER = 1 << 20;

/** The time a chunk of `bytes` takes on the wire under `f` (ms). */
const transmitMs = (bytes: number, f: ProxyFaults) => (f.bandwidthBytesPerSecond ? (bytes * 1000) / f.bandwidthBytesPerSecond : 0);

/**
 * One direction of one connection: chunks released in order, each after the latency and the
 * bandwidth's share. When the faults change, what is still held is scheduled again under the
 * new ones: a store that is fixed answers what was waiting at its new speed.
 */
class DelayedPipe {
  /** When the latest queued chunk goes out (ms since the epoch); never earlier than the one before it. */
  private last = 0;
  private held = 0;
  private readonly queue: { when: number; arrived: number; bytes: number; work: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly faults: () => ProxyFaults,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.at(Date.now(), 0, () => to.end()));
  }

  private push(chunk: Buffer): void {
    const f = this.faults();
    if (f.latencyMs === 0 && f.bandwidthBytesPerSecond === 0 && this.held === 0 && this.queue.length === 0) {
      if (!this.to.write(chunk)) {
        this.from.pause();
        this.to.once('drain', () => this.from.resume());
      }
      return;
    }
    this.held += chunk.length;
    if (this.held > HIGH_WATER) this.from.pause();
    this.at(Date.now(), chunk.length, () => {
      this.held -= chunk.length;
      if (!this.to.destroyed) this.to.write(chunk);
      if (this.held <= HIGH_WATER && this.from.isPaused()) this.from.resume();
    });
  }

  /** Runs `work` (a chunk of `bytes` that arrived at `arrived`, or the end) after everything queued before it: one timer per pipe, so order never depends on timers'. */
  private at(arrived: number, bytes: number, work: () => void): void {
    const f = this.faults();
    this.last = Math.max(arrived + f.latencyMs, this.last) + transmitMs(bytes, f);
    this.queue.push({ when: this.last, arrived, bytes, work });
    if (!this.timer) this.pump();
  }

  /** The faults changed: what is held goes out as if they had been the new ones all along, in the same order. */
  reschedule(): void {
    const f = this.faults();
    let last = 0;
    for (const q of this.queue) last = q.when = Math.max(q.arrived + f.latencyMs, last) + transmitMs(q.bytes, f);
    this.last = last;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length) this.pump();
  }

  private pump(): void {
    const now = Date.now();
    while (this.queue.length && this.queue[0]!.when <= now) this.queue.shift()!.work();
    if (this.queue.length) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.queue[0]!.when - now);
    }
  }
}

export class FaultProxy {
  private faults: ProxyFaults = HEALTHY;
  private readonly open = new Set<Socket>();
  private readonly pipes = new Set<DelayedPipe>();
  private readonly server: Server;
  private readonly control: HttpServer;
  private dropTimer: NodeJS.Timeout | undefined;
  /** Connections taken, refused and dropped since the start. */
  private readonly counts = { accepted: 0, refused: 0, dropped: 0 };

  constructor(private readonly target: { host: string; port: number }) {
    // Half-open kept: a side that finished sending may still receive (the other side's FIN is passed on in order).
    this.server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.control = createHttpServer((req, res) => void this.answer(req, res));
  }

  private accept(client: Socket): void {
    if (this.faults.refuse) {
      this.counts.refused++;
      client.resetAndDestroy();
      return;
    }
    this.counts.accepted++;
    const upstream = connect({ port: this.target.port, host: this.target.host, allowHalfOpen: true });
    const pair = [client, upstream];
    for (const s of pair) {
      this.open.add(s);
      s.setNoDelay(true);
      s.on('error', () => pair.forEach((x) => x.destroy()));
      // A clean close needs nothing: its FIN reaches the other side in order, after the bytes still held back.
      s.on('close', () => this.open.delete(s));
    }
    const pipes = [new DelayedPipe(client, upstream, () => this.faults), new DelayedPipe(upstream, client, () => this.faults)];
    for (const p of pipes) this.pipes.add(p);
    client.once('close', () => pipes.forEach((p) => this.pipes.delete(p)));
  }

  /** Drops every open connection (both sides reset). */
  drop(): number {
    const n = this.open.size / 2;
    for (const s of this.open) s.resetAndDestroy();
    this.counts.dropped += n;
    return n;
  }

  set(faults: ProxyFaults): void {
    this.faults = faults;
    for (const p of this.pipes) p.reschedule();
    clearInterval(this.dropTimer);
    this.dropTimer = faults.dropEverySeconds ? setInterval(() => this.drop(), faults.dropEverySeconds * 1000) : undefined;
    this.dropTimer?.unref();
  }

  private state() {
    return { target: `${this.target.host}:${this.target.port}`, faults: this.faults, connections: this.open.size / 2, ...this.counts };
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' });
      res.end(JSON.stringify(body));
    };
    const problem = (status: number, detail: string) => send(status, { type: 'about:blank', status, title: status === 404 ? 'Not Found' : status === 405 ? 'Method Not Allowed' : 'Bad Request', detail });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/drop' && req.method === 'POST') return send(200, { droppedNow: this.drop(), ...this.state() });
    if (path !== '/') return problem(404, `There is no ${path} here; use / (GET the state, PUT or PATCH faults) or POST /drop.`);
    if (req.method === 'GET') return send(200, this.state());
    if (req.method !== 'PUT' && req.method !== 'PATCH') return problem(405, 'GET / reads the state; PUT / sets every fault (others healthy), PATCH / changes some.');
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > 10_000) return problem(400, 'The body is too long for a few settings.');
    }
    try {
      this.set(parseFaults(req.method === 'PUT' ? HEALTHY : this.faults, JSON.parse(raw || '{}')));
    } catch (err) {
      return problem(400, err instanceof SyntaxError ? 'The body is not valid JSON.' : (err as Error).message);
    }
    send(200, this.state());
  }

  async listen(listen: { host: string; port: number }, control: { host: string; port: number }): Promise<{ proxy: AddressInfo; control: AddressInfo }> {
    await new Promise<void>((resolve, reject) => this.server.once('error', reject).listen(listen.port, listen.host, resolve));
    await new Promise<void>((resolve, reject) => this.control.once('error', reject).listen(control.port, control.host, resolve));
    return { proxy: this.server.address() as AddressInfo, control: this.control.address() as AddressInfo };
  }

  async close(): Promise<void> {
    clearInterval(this.dropTimer);
    for (const s of this.open) s.destroy();
    await Promise.all([new Promise((r) => this.server.close(r)), new Promise((r) => this.control.close(r))]);
  }
}
