import { connect, type Socket } from 'node:net';

/**
 * A minimal POP3 client for tests and load generation: responses read in order,
 * multi-line bodies returned raw (still dot-stuffed), commands may be pipelined.
 */
export class Pop3Client {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: { multi: boolean; resolve: (r: string | Buffer) => void }[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, d]) : d;
      this.pump();
    });
    const fail = () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.resolve('-ERR connection closed');
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static async open(port: number, host = '127.0.0.1'): Promise<Pop3Client> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new Pop3Client(socket);
    const greeting = (await client.expect(false)) as string;
    if (!greeting.startsWith('+OK')) throw new Error(`greeting: ${greeting}`);
    return client;
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const w = this.waiting[0]!;
      const eol = this.buffer.indexOf('\r\n');
      if (eol < 0) return;
      const first = this.buffer.subarray(0, eol).toString('latin1');
      if (!w.multi || !first.startsWith('+OK')) {
        this.buffer = this.buffer.subarray(eol + 2);
        this.waiting.shift();
        w.resolve(first);
        continue;
      }
      const end = this.buffer.indexOf('\r\n.\r\n', eol);
      const endAtStart = this.buffer.subarray(eol + 2, eol + 5).toString('latin1') === '.\r\n';
      if (endAtStart) {
        this.buffer = this.buffer.subarray(eol + 5);
        this.waiting.shift();
        w.resolve(Buffer.alloc(0));
        continue;
      }
      if (end < 0) return;
      const body = this.buffer.subarray(eol + 2, end + 2);
      this.buffer = this.buffer.subarray(end + 5);
      this.waiting.shift();
      w.resolve(body);
    }
  }

  private expect(multi: boolean): Promise<string | Buffer> {
    if (this.closed) return Promise.resolve('-ERR connection closed');
    const p = new Promise<string | Buffer>((resolve) => this.waiting.push({ multi, resolve }));
    this.pump();
    return p;
  }

  /** Sends a command; resolves with the status line (single-line) or the body (multi-line +OK). */
  command(line: string, multi = false): Promise<string | Buffer> {
    this.socket.write(line + '\r\n');
    return this.expect(multi);
  }

  async login(user: string, password: string): Promise<void> {
    void this.command(`USER ${user}`);
    const r = (await this.command(`PASS ${password}`)) as string;
    if (!r.startsWith('+OK')) throw new Error(`login failed: ${r}`);
  }

  async quit(): Promise<void> {
    await this.command('QUIT');
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
