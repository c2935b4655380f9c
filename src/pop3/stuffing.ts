const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * Turns a stored message into the body of a multi-line POP3 response (RFC 1939 §3):
 * every line ends in CRLF whatever the stored line ending, a line starting with "." gets
 * another ".", and for TOP only the header and `bodyLines` lines of the body are sent.
 * Streaming: feed chunks, get chunks; `end()` returns the final CRLF (if needed) and the
 * terminating ".CRLF". Pure: no I/O.
 */
export class Pop3Encoder {
  private atLineStart = true;
  private pendingCR = false;
  private inBody = false;
  private emptyLine = true;
  private bodyLinesLeft: number;
  private done = false;

  constructor(bodyLines = Infinity) {
    this.bodyLinesLeft = bodyLines;
  }

  /** True once TOP has sent all it will; the caller may stop reading. */
  get finished(): boolean {
    return this.done;
  }

  push(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let start = 0;
    const flush = (end: number) => {
      if (end > start) parts.push(chunk.subarray(start, end));
    };
    for (let i = 0; i < chunk.length && !this.done; i++) {
      const b = chunk[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (b === LF) {
          start = i + 1;
          continue;
        }
      }
      if (b === CR || b === LF) {
        flush(i);
        parts.push(CRLF);
        if (b === CR) this.pendingCR = true;
        this.endLine();
        start = i + 1;
        continue;
      }
      if (this.atLineStart) {
        this.atLineStart = false;
        this.emptyLine = false;
        if (b === DOT) {
          flush(i);
          parts.push(DOT_BUF);
          start = i;
        }
      }
    }
    if (!this.done) flush(chunk.length);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private endLine(): void {
    const wasEmpty = this.emptyLine;
    this.atLineStart = true;
    this.emptyLine = true;
    if (this.inBody) {
      if (--this.bodyLinesLeft <= 0) this.done = true;
    } else if (wasEmpty) {
      // The empty line ends the header (RFC 5322 §2.1).
      this.inBody = true;
      if (this.bodyLinesLeft <= 0) this.done = true;
    }
  }

  end(): Buffer {
    const needCRLF = !this.atLineStart && !this.done;
    return needCRLF ? Buffer.from('\r\n.\r\n') : Buffer.from('.\r\n');
  }
}

const CRLF = Buffer.from('\r\n');
const DOT_BUF = Buffer.from('.');
