/**
 * The load generator's SMTP client: one connection, one transaction at a time (EHLO once,
 * then MAIL, RCPT, DATA per message, RSET after a refusal), as a sending MTA reusing its
 * connection does. Every reply is read whole (multi-line replies included) and bounded.
 */
import { connect, type Socket } from 'node:net';

export interface Reply {
  readonly code: number;
  readonly text: string;
}

const MAX_REPLY = 64 * 1024;

export class LoadSmtpClient {
  private buffer = '';
  private waiting?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private failed?: Error;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Connects and reads the greeting, then says EHLO as `helo`; rejects unless both are 2xx. */
  static async open(host: string, port: number, helo: string, timeoutMs: number): Promise<LoadSmtpClient> {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    const c = new LoadSmtpClient(socket);
    const greeting = await c.reply();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`);
    const ehlo = await c.command(`EHLO ${helo}`);
    if (ehlo.code !== 250) throw new Error(`EHLO refused: ${ehlo.code} ${ehlo.text}`);
    return c;
  }

  private onData(d: string): void {
    this.buffer += d;
    if (this.buffer.length > MAX_REPLY) return this.fail(new Error('a reply longer than 64 KiB'));
    // A reply ends with a line whose code is followed by a space (RFC 5321 §4.2.1).
    const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buffer);
    if (!m || !this.waiting) return;
    const end = m.index + m[0].length;
    const text = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve({ code: Number(m[1]), text: text.split('\r\n').at(-1)!.slice(4) });
  }

  private fail(err: Error): void {
    this.failed ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failed);
  }

  private reply(): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.onData('');
    });
  }

  command(line: string): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    this.socket.write(line + '\r\n');
    return this.reply();
  }

  /**
   * One transaction. Answers the reply that ended it: the DATA's final reply, or the first
   * refusal (after which the transaction is reset).
   */
  async send(from: string, to: readonly string[], message: Buffer): Promise<Reply> {
    const steps = [`MAIL FROM:<${from}>`, ...to.map((r) => `RCPT TO:<${r}>`), 'DATA'];
    for (const step of steps) {
      const r = await this.command(step);
      const ok = step === 'DATA' ? r.code === 354 : r.code === 250;
      if (!ok) {
        await this.command('RSET').catch(() => undefined);
        return r;
      }
    }
    this.socket.write(dotStuff(message));
    return this.command('.');
  }

  async quit(): Promise<void> {
    await this.command('QUIT').catch(() => undefined);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The message with lines starting with a dot doubled, ending in CRLF (before the closing dot). */
function dotStuff(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}
