/**
 * What the load generator's clients share: a socket read as latin1 text into a bounded
 * buffer, one answer awaited at a time, and a failure (error, close, overflow) that fails
 * the answer awaited and every later one.
 */
import { connect, type Socket } from 'node:net';

export abstract class LoadConnection<A> {
  protected buffer = '';
  private waiting?: { resolve: (a: A) => void; reject: (e: Error) => void };
  private failed?: Error;

  protected constructor(
    protected readonly socket: Socket,
    private readonly maxBuffer: number,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** A socket to `host:port` that fails with a sentence after `timeoutMs` without a byte. */
  protected static dial(host: string, port: number, timeoutMs: number): Socket {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    return socket;
  }

  /** One whole answer taken off the front of `buffer`, or undefined while it is incomplete; throws on garbage. */
  protected abstract take(): A | undefined;

  private onData(d: string): void {
    this.buffer += d;
    if (this.buffer.length > this.maxBuffer) return this.fail(new Error(`an answer longer than ${this.maxBuffer >> 10} KiB`));
    const w = this.waiting;
    if (!w) return;
    let a: A | undefined;
    try {
      a = this.take();
    } catch (err) {
      return this.fail(err as Error);
    }
    if (a === undefined) return;
    this.waiting = undefined;
    w.resolve(a);
  }

  protected fail(err: Error): void {
    this.failed ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failed);
  }

  /** Sends `line` (when given) and waits for the next answer. */
  protected exchange(line?: string): Promise<A> {
    if (this.failed) return Promise.reject(this.failed);
    if (line !== undefined) this.socket.write(line + '\r\n');
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.onData('');
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
