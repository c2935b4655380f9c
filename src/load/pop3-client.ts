/**
 * The load generator's POP3 client: one command at a time, single-line answers and
 * multi-line ones (ended by a lone dot, RFC 1939 §3) read whole and bounded.
 */
import { LoadConnection } from './connection.js';

export interface Pop3Answer {
  readonly ok: boolean;
  /** The status line without +OK/-ERR. */
  readonly text: string;
  /** The lines of a multi-line answer (dot-unstuffed), empty otherwise. */
  readonly lines: string[];
}

export class LoadPop3Client extends LoadConnection<Pop3Answer> {
  /** Whether the answer awaited has lines after +OK. */
  private multi = false;
  /** How far the buffer was searched for a multi-line answer's end (not searched again). */
  private scanned = 0;

  /** Connects and reads the greeting; rejects unless it is +OK. */
  static async open(host: string, port: number, timeoutMs: number): Promise<LoadPop3Client> {
    const c = new LoadPop3Client(LoadConnection.dial(host, port, timeoutMs), 64 * 1024 * 1024);
    const greeting = await c.exchange();
    if (!greeting.ok) throw new Error(`greeting -ERR ${greeting.text}`);
    return c;
  }

  protected take(): Pop3Answer | undefined {
    const eol = this.buffer.indexOf('\r\n');
    if (eol < 0) return undefined;
    const status = this.buffer.slice(0, eol);
    const ok = status.startsWith('+OK');
    if (!ok && !status.startsWith('-ERR')) throw new Error(`not a POP3 answer: ${JSON.stringify(status.slice(0, 80))}`);
    let end = eol + 2;
    let lines: string[] = [];
    if (this.multi && ok) {
      const stop = this.buffer.indexOf('\r\n.\r\n', Math.max(eol, this.scanned - 4));
      if (stop < 0) {
        this.scanned = this.buffer.length;
        return undefined;
      }
      lines = this.buffer.slice(eol + 2, stop + 2).split('\r\n').slice(0, -1).map((l) => (l.startsWith('.') ? l.slice(1) : l));
      end = stop + 5;
    }
    this.buffer = this.buffer.slice(end);
    this.scanned = 0;
    return { ok, text: status.replace(/^(\+OK|-ERR) ?/, ''), lines };
  }

  /** Sends `line`; `multi` for commands whose +OK answer has lines (UIDL, LIST, RETR, TOP). */
  command(line: string, multi = false): Promise<Pop3Answer> {
    this.multi = multi;
    return this.exchange(line);
  }
}
