import { HikyakuError, type ErrorCode } from '../mail/index.js';

/** One end of a parent–child IPC channel: a forked child, or `process` inside it. */
export interface Endpoint {
  send(message: unknown, handle?: unknown): boolean;
  on(event: 'message', listener: (message: unknown, handle?: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown, handle?: unknown) => void): unknown;
  readonly connected: boolean;
}

/** A call's handler: its arguments arrive as the caller gave them. */
export type Handler = (...args: never[]) => unknown;

interface Call {
  readonly rpc: 'call';
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
}

interface Answer {
  readonly rpc: 'answer';
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
  /** A HikyakuError's code: the caller gets the same error back (a session answers by it). */
  readonly code?: ErrorCode;
}

function isRpc(m: unknown): m is Call | Answer {
  return typeof m === 'object' && m !== null && ((m as { rpc?: unknown }).rpc === 'call' || (m as { rpc?: unknown }).rpc === 'answer');
}

/**
 * Calls across an IPC channel, both ways: `call` asks the other end and waits at most
 * `timeoutMs` for its answer (a busy or stopped peer costs the deadline, never a hang);
 * `serve` answers the other end's calls with the handlers given. Values travel by the
 * channel's serialization ('advanced': Maps and Buffers arrive as such).
 */
export class RpcChannel {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private handlers: Record<string, Handler> = {};
  private readonly listener = (m: unknown) => {
    if (!isRpc(m)) return;
    if (m.rpc === 'call') void this.answer(m);
    else this.settle(m);
  };

  constructor(private readonly peer: Endpoint) {
    peer.on('message', this.listener);
  }

  serve(handlers: Record<string, Handler>): void {
    this.handlers = handlers;
  }

  call<T>(method: string, args: readonly unknown[], timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.peer.connected) return reject(new Error(`${method}: the other process is gone`));
      const id = this.next++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const call: Call = { rpc: 'call', id, method, args };
      try {
        this.peer.send(call);
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Fails every call still waiting (the other process ended). */
  close(reason = 'the other process is gone'): void {
    this.peer.off('message', this.listener);
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(reason));
      this.waiting.delete(id);
    }
  }

  private async answer(m: Call): Promise<void> {
    let reply: Answer;
    try {
      const handler = this.handlers[m.method];
      if (!handler) throw new Error(`no such call: ${m.method}`);
      reply = { rpc: 'answer', id: m.id, value: await (handler as (...a: readonly unknown[]) => unknown)(...m.args) };
    } catch (err) {
      reply = { rpc: 'answer', id: m.id, error: err instanceof Error ? err.message : String(err), code: err instanceof HikyakuError ? err.code : undefined };
    }
    try {
      if (this.peer.connected) this.peer.send(reply);
    } catch {
      // The other process went while this one worked: nobody waits for the answer.
    }
  }

  private settle(m: Answer): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.error === undefined) return w.resolve(m.value);
    const err = m.code ? new HikyakuError(m.code) : new Error(m.error);
    err.message = m.error;
    w.reject(err);
  }
}
