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
    if (chunk.length === 0) return chunk;
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
    // CR and LF are found with indexOf (memchr) rather than byte by byte: text that is
    // already CRLF throughout is only searched, and given back as it came, uncopied.
    let nextCR = chunk.indexOf(CR, i);
    let nextLF = chunk.indexOf(LF, i);
    while (nextCR !== -1 || nextLF !== -1) {
      if (nextLF !== -1 && (nextCR === -1 || nextLF < nextCR)) {
        // Bare LF: the previous byte was not CR.
        this.lineLength += nextLF - i;
        out.push(chunk.subarray(start, nextLF), CRLF);
        this.rewrote = true;
        this.endLine();
        start = i = nextLF + 1;
        nextLF = chunk.indexOf(LF, i);
        continue;
      }
      this.lineLength += nextCR - i;
      if (nextCR + 1 === chunk.length) {
        out.push(chunk.subarray(start, nextCR));
        this.pendingCR = true;
        start = i = chunk.length;
        break;
      }
      this.endLine();
      if (nextLF === nextCR + 1) {
        i = nextCR + 2;
        nextLF = chunk.indexOf(LF, i);
      } else {
        // Bare CR.
        out.push(chunk.subarray(start, nextCR), CRLF);
        this.rewrote = true;
        start = i = nextCR + 1;
      }
      nextCR = chunk.indexOf(CR, i);
    }
    this.lineLength += chunk.length - i;
    if (start === 0 && out.length === 0) return chunk;
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
