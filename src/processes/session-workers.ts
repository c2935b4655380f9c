import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { SharedCounters } from '../auth/index.js';
import type { MaildropLockTable, MailStore } from '../mailstore/index.js';
import { mainWriteHandlers } from './main-writes.js';
import type { Logger } from '../observability/index.js';
import { RpcChannel } from './rpc.js';

/** What the main process keeps for the node's session workers on the embedded store. */
export interface NodeState {
  readonly counters: SharedCounters;
  readonly locks: MaildropLockTable;
  /** The main process's mailbox store: the workers' sessions write through it. */
  readonly mailStore: () => MailStore;
}

export interface SessionWorkersOptions {
  /** The worker's entry file. */
  readonly entry: string;
  readonly count: number;
  /** Sent first: what the worker needs to open its stores and start its servers. */
  readonly init: unknown;
  /** Kept here and shared with the workers; undefined when they share it through the database (PostgreSQL). */
  readonly state: NodeState | undefined;
}

// How long a worker may take to open its stores and listen.
const START_MS = 30_000;
// A worker that ends is started again after this long, doubled while it keeps failing to start.
const RESTART_MS = 1000;
const RESTART_MAX_MS = 60_000;

interface Running {
  readonly child: ChildProcess;
  readonly channel: RpcChannel;
}

/**
 * Processes that serve POP3 and IMAP sessions beside the main process, so that sessions use
 * every core. The main process accepts and hands each new connection, unread, to the next
 * process in turn, itself included (sockets accepted by whichever process wakes first go
 * mostly to one). Each worker opens its own stores; what sessions of one node must share
 * (failed-login counts, POP3 maildrop locks) the main process keeps and answers for them. A
 * worker that ends gives back its locks and is started again.
 */
export class SessionWorkers {
  /** Every worker process not yet ended; `running` those that are ready and take connections. */
  private readonly children = new Set<ChildProcess>();
  private readonly running = new Set<Running>();
  private turn = 0;
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: SessionWorkersOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the workers; resolves when each listens or has failed (the main process serves meanwhile). */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.count }, () => this.spawn(RESTART_MS)));
  }

  /** Each running worker's answer to `method`; a worker that does not answer within `timeoutMs` is left out. */
  async ask<T>(method: string, timeoutMs: number): Promise<T[]> {
    const answers = await Promise.all([...this.running].map((r) => r.channel.call<T>(method, [], timeoutMs).catch(() => undefined)));
    return answers.filter((a): a is Awaited<T> => a !== undefined) as T[];
  }

  /**
   * Hands a new connection of `protocol` to the worker whose turn it is; false when it is the
   * main process's turn or no worker can take it: then the main process serves it, as it does
   * (`serveHere`) one whose passing failed.
   */
  handOff(protocol: string, socket: Socket, secure: boolean, serveHere: () => void): boolean {
    if (this.stopping) return false;
    const workers = [...this.running].filter((r) => r.child.connected);
    const turn = this.turn++ % (workers.length + 1);
    if (turn === workers.length) return false;
    try {
      workers[turn]!.child.send({ type: 'connection', protocol, secure }, socket, (err) => {
        if (err && !socket.destroyed) serveHere();
      });
      return true;
    } catch {
      return false;
    }
  }

  /** Ends every worker gracefully (its sessions are told goodbye); one still running after 5 s is killed. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(
      [...this.children].map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        return new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }),
    );
  }

  private spawn(backoffMs: number): Promise<void> {
    const child = fork(this.options.entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const channel = new RpcChannel(child);
    const owner = `worker:${child.pid}`;
    const running: Running = { child, channel };
    this.children.add(child);
    const state = this.options.state;
    if (state) {
      channel.serve({
        'counters.add': (keys: string[], n: number, at: number, bucketMs: number) => state.counters.add(keys, n, at, bucketMs),
        'counters.buckets': (keys: string[], since: number, bucketMs: number) => state.counters.buckets(keys, since, bucketMs),
        'counters.forget': (key: string) => state.counters.forget(key),
        'locks.acquire': (accountId: number) => state.locks.acquire(accountId, owner),
        'locks.release': (accountId: number) => state.locks.release(accountId, owner),
        ...mainWriteHandlers(state.mailStore),
      });
    }
    const startedAt = Date.now();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log.error({ worker: child.pid }, `a session worker did not start within ${START_MS / 1000} s; it is ended`);
        child.kill('SIGKILL');
      }, START_MS);
      const ready = (m: unknown) => {
        if ((m as { type?: string } | null)?.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', ready);
        this.running.add(running);
        this.log.info({ worker: child.pid }, 'session worker ready');
        resolve();
      };
      child.on('message', ready);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        channel.close();
        this.children.delete(child);
        this.running.delete(running);
        const released = state?.locks.releaseAll(owner) ?? 0;
        resolve();
        if (this.stopping) return;
        // A worker that ran a while is started again at once; one that keeps failing, ever more slowly.
        const delay = Date.now() - startedAt > RESTART_MAX_MS ? RESTART_MS : backoffMs;
        this.log.error({ worker: child.pid, code, signal, released }, `a session worker ended; another starts in ${delay / 1000} s, the other processes serve meanwhile`);
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.stopping) void this.spawn(Math.min(delay * 2, RESTART_MAX_MS));
        }, delay);
        this.timers.add(t);
      });
      child.send({ type: 'start', init: this.options.init });
    });
  }
}
