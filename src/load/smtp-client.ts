/**
 * The load generator's SMTP client: one connection, one transaction at a time (EHLO once,
 * then MAIL, RCPT, DATA per message, RSET after a refusal), as a sending MTA reusing its
 * connection does. Every reply is read whole (multi-line replies included) and bounded.
 */
import { LoadConnection } from './connection.js';

export interface Reply {
  readonly code: number;
  readonly text: string;
}

export class LoadSmtpClient extends LoadConnection<Reply> {
  /** Connects and reads the greeting, then says EHLO as `helo`; rejects unless both are 2xx. */
  static async open(host: string, port: number, helo: string, timeoutMs: number): Promise<LoadSmtpClient> {
    const c = new LoadSmtpClient(LoadConnection.dial(host, port, timeoutMs), 64 * 1024);
    const greeting = await c.exchange();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`);
    const ehlo = await c.command(`EHLO ${helo}`);
    if (ehlo.code !== 250) throw new Error(`EHLO refused: ${ehlo.code} ${ehlo.text}`);
    return c;
  }

  /** A reply ends with a line whose code is followed by a space (RFC 5321 §4.2.1). */
  protected take(): Reply | undefined {
    const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buffer);
    if (!m) return undefined;
    const end = m.index + m[0].length;
    const text = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    return { code: Number(m[1]), text: text.split('\r\n').at(-1)!.slice(4) };
  }

  command(line: string): Promise<Reply> {
    return this.exchange(line);
  }

  /**
   * One transaction. Answers the reply that ended it: the DATA's final reply, or the first
   * refusal (after which the transaction is reset). `onData` is called once the message
   * and its closing dot are written (from then on a lost connection leaves it in doubt).
   */
  async send(from: string, to: readonly string[], message: Buffer, onData?: () => void): Promise<Reply> {
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
    const reply = this.command('.');
    onData?.();
    return reply;
  }

  async quit(): Promise<void> {
    await this.command('QUIT').catch(() => undefined);
    this.destroy();
  }
}

/** The message with lines starting with a dot doubled, ending in CRLF (before the closing dot). */
function dotStuff(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}
