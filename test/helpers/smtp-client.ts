import { connect, type Socket } from 'node:net';

/** One SMTP reply: code, and the text of every line joined with newlines. */
export interface Reply {
  readonly code: number;
  readonly text: string;
}

/**
 * A minimal SMTP client for tests and load generation: one connection, replies read in
 * order, the transaction pipelined (RFC 2920) and the body dot-stuffed. It keeps the
 * load generator cheap, so benchmark figures measure the server, not the client.
 */
export class SmtpClient {
  private buffer = '';
  private waiting: ((r: Reply) => void)[] = [];
  private replies: Reply[] = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d.toString('latin1')));
    const fail = (err?: Error) => {
      this.closed ??= err ?? new Error('connection closed');
      for (const w of this.waiting.splice(0)) w({ code: 0, text: this.closed.message });
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  static async open(port: number, host = '127.0.0.1'): Promise<SmtpClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new SmtpClient(socket);
    const greeting = await client.read();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.code} ${greeting.text}`);
    const ehlo = await client.command('EHLO client.test');
    if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
    return client;
  }

  private onData(text: string): void {
    this.buffer += text;
    let lines: string[] = [];
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i < 0) break;
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      lines.push(line);
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
        lines = [];
        const w = this.waiting.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
    if (lines.length) this.buffer = lines.map((l) => l + '\r\n').join('') + this.buffer;
  }

  read(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, text: this.closed.message });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    this.write(line + '\r\n');
    return this.read();
  }

  /**
   * Sends one message, pipelined: MAIL, RCPTs and DATA in one write, then the body.
   * Returns the final reply (250 when accepted) and the time from the end of data to it.
   */
  async send(from: string, to: readonly string[], body: Buffer): Promise<{ reply: Reply; rcpt: Reply[]; ms: number }> {
    this.write(`MAIL FROM:<${from}>\r\n` + to.map((t) => `RCPT TO:<${t}>\r\n`).join('') + 'DATA\r\n');
    const mail = await this.read();
    const rcpt: Reply[] = [];
    for (let i = 0; i < to.length; i++) rcpt.push(await this.read());
    const data = await this.read();
    if (data.code !== 354) return { reply: mail.code !== 250 ? mail : data, rcpt, ms: 0 };
    const started = process.hrtime.bigint();
    this.write(Buffer.concat([dotStuff(body), Buffer.from('.\r\n')]));
    const reply = await this.read();
    return { reply, rcpt, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  /** Sends NOOP every 100 ms (at most `tries` times) until a reply is not 250; returns that reply. */
  async noopUntilRefused(tries = 60): Promise<Reply> {
    let last: Reply = { code: 250, text: '' };
    for (let i = 0; i < tries && last.code === 250; i++) {
      last = await this.command('NOOP');
      await new Promise((r) => setTimeout(r, 100));
    }
    return last;
  }

  async quit(): Promise<void> {
    if (!this.closed) await this.command('QUIT');
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Dot-stuffs a CRLF message (RFC 5321 §4.5.2) and makes sure it ends in CRLF. */
export function dotStuff(body: Buffer): Buffer {
  let text = body.toString('latin1');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from((text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..'), 'latin1');
}

/** A test message of about `size` bytes with a unique id header. */
export function testMessage(id: string, size: number): Buffer {
  const head = `From: sender@client.test\r\nTo: someone\r\nSubject: test ${id}\r\nX-Test-Id: ${id}\r\n\r\n`;
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh\r\n';
  const n = Math.max(1, Math.ceil((size - head.length) / line.length));
  return Buffer.from(head + line.repeat(n));
}
