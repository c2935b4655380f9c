const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * Streams message data into canonical form: every line ends in CRLF. A bare LF or a
 * bare CR becomes CRLF, so a stored message never holds the ambiguous line endings
 * that SMTP smuggling relies on (CVE-2023-51764) when it is later relayed or read.
 * Also tracks the longest line, to enforce the line length limit (RFC 5322 §2.1.1).
 * Pure: bytes in, bytes out; state carries across chunks of any size.
 */
export class LineNormalizer {
  private pendingCR = false;
  private lineLength = 0;
  longestLine = 0;
  /** Bare CR or LF seen and rewritten. */
  rewrote = false;

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let start = 0;
    let i = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (chunk[0] === LF) {
        out.push(CRLF);
        start = i = 1;
      } else {
        this.rewrote = true;
        out.push(CRLF);
      }
      this.endLine();
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF) {
        // Bare LF: the previous byte was not CR.
        out.push(chunk.subarray(start, i), CRLF);
        this.rewrote = true;
        this.endLine();
        start = i + 1;
      } else if (b === CR) {
        out.push(chunk.subarray(start, i));
        if (i + 1 === chunk.length) {
          this.pendingCR = true;
        } else {
          out.push(CRLF);
          if (chunk[i + 1] === LF) i++;
          else this.rewrote = true;
          this.endLine();
        }
        start = i + 1;
      } else {
        this.lineLength++;
      }
    }
    out.push(chunk.subarray(start));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Whatever is held back at the end of the data (a trailing CR becomes CRLF). */
  end(): Buffer {
    if (this.pendingCR) {
      this.pendingCR = false;
      this.rewrote = true;
      this.endLine();
      return CRLF;
    }
    this.endLine();
    return Buffer.alloc(0);
  }

  private endLine(): void {
    if (this.lineLength > this.longestLine) this.longestLine = this.lineLength;
    this.lineLength = 0;
  }
}
