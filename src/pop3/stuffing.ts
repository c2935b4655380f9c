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
    const len = chunk.length;
    let i = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (len > 0 && chunk[0] === LF) i = 1;
    }
    while (i < len && !this.done) {
      const b = chunk[i]!;
      if (b === CR || b === LF) {
        parts.push(CRLF);
        if (b === CR) {
          if (i + 1 === len) this.pendingCR = true;
          else if (chunk[i + 1] === LF) i++;
        }
        i++;
        this.endLine();
        continue;
      }
      if (this.atLineStart) {
        this.atLineStart = false;
        this.emptyLine = false;
        if (b === DOT) parts.push(DOT_BUF);
      }
      // The rest of the line in one piece: the search for its end runs in native code.
      const next = nextBreak(chunk, i);
      parts.push(chunk.subarray(i, next));
      i = next;
    }
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

/**
 * A whole message as the body of a RETR response, with the terminating dot: the stored
 * bytes themselves when every line already ends in CRLF and none starts with "." (as mail
 * received over SMTP is), so nothing is copied; otherwise encoded. `known`: the store
 * already found it so (see StoredMessage.sendable), and it is not looked at again.
 */
export function retrBody(message: Buffer, known = false): Buffer[] {
  if (known || sendsAsStored(message)) return [message, DOT_END];
  const e = new Pop3Encoder();
  return [e.push(message), e.end()];
}

/**
 * True when every CR is followed by LF, every LF preceded by CR, no line starts with "."
 * and the last line ends: bytes a POP3 response may carry as they are (no dot-stuffing,
 * no line ending to repair). Mail received over SMTP is like this; the mailbox store
 * notes it when it stores a body, so that RETR need not look again.
 */
export function sendsAsStored(m: Buffer): boolean {
  if (m.length === 0 || m[0] === DOT || m[m.length - 1] !== LF) return false;
  let crs = 0;
  for (let i = m.indexOf(CR); i >= 0; i = m.indexOf(CR, i + 1)) {
    if (m[i + 1] !== LF || m[i + 2] === DOT) return false;
    crs++;
  }
  let lfs = 0;
  for (let i = m.indexOf(LF); i >= 0; i = m.indexOf(LF, i + 1)) lfs++;
  return lfs === crs;
}

/** Index of the next CR or LF at or after `from`, or the chunk's length. */
function nextBreak(chunk: Buffer, from: number): number {
  const cr = chunk.indexOf(CR, from);
  const lf = chunk.indexOf(LF, from);
  if (cr < 0) return lf < 0 ? chunk.length : lf;
  return lf < 0 ? cr : Math.min(cr, lf);
}

const CRLF = Buffer.from('\r\n');
const DOT_END = Buffer.from('.\r\n');
const DOT_BUF = Buffer.from('.');
