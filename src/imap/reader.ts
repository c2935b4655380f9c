/**
 * Frames IMAP commands out of the byte stream (RFC 9051 §2.2, §4.3): a command is one line,
 * unless that line ends in a literal announcement (`{n}`, `{n+}` or `~{n}`), after which
 * n bytes of literal data follow and the command goes on with the next line. Synchronizing
 * literals need a "+" continuation from the server first; LITERAL+ / LITERAL- (RFC 7888)
 * ones do not.
 */

/** One framed command: line text and literal data, in order. Text parts never hold CR or LF. */
export interface Frame {
  readonly parts: readonly (string | Buffer)[];
}

export type ReaderEvent =
  | { readonly kind: 'frame'; readonly frame: Frame }
  /** A synchronizing literal was announced: the server must answer with a continuation ("+ ...") for the data to come. */
  | { readonly kind: 'continue'; readonly size: number }
  /**
   * The command broke a limit. `tag` when it could be read. `fatal`: the stream cannot be
   * followed any more (a non-synchronizing literal too large: its bytes are on their way),
   * so the connection must be closed after the reply.
   */
  | { readonly kind: 'error'; readonly tag: string | undefined; readonly text: string; readonly fatal: boolean };

export interface ReaderLimits {
  /** Longest line of command text (excluding literal data). */
  readonly maxLine: number;
  /** Largest literal (APPEND's message). */
  readonly maxLiteral: number;
  /** Most literals in one command. */
  readonly maxLiterals: number;
}

const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;

/** The tag of a command line, if it has one that looks like a tag. */
export function tagOf(line: string): string | undefined {
  const m = /^([\x21\x23\x24\x26\x27\x2c-\x5a\x5e-\x7a\x7c\x7e]+) /.exec(line);
  return m?.[1];
}

export class CommandReader {
  private buffer: Buffer = Buffer.alloc(0);
  private parts: (string | Buffer)[] = [];
  private literal: { size: number; chunks: Buffer[]; got: number } | undefined;
  private literals = 0;
  private lineBytes = 0;
  /** A command being thrown away: until its end, input is skipped. */
  private skipping = false;

  constructor(private readonly limits: ReaderLimits) {}

  /** Bytes held and not yet framed (to decide when to stop reading from the socket). */
  get pending(): number {
    return this.buffer.length + (this.literal?.got ?? 0);
  }

  /** Feeds bytes; returns what they completed, in order. */
  push(data: Buffer): ReaderEvent[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    const out: ReaderEvent[] = [];
    for (;;) {
      if (this.literal) {
        const want = this.literal.size - this.literal.got;
        if (this.buffer.length === 0) break;
        const take = this.buffer.subarray(0, want);
        this.buffer = this.buffer.subarray(take.length);
        if (!this.skipping) this.literal.chunks.push(take);
        this.literal.got += take.length;
        if (this.literal.got < this.literal.size) break;
        if (!this.skipping) this.parts.push(Buffer.concat(this.literal.chunks));
        this.literal = undefined;
        continue;
      }
      const lf = this.buffer.indexOf(0x0a);
      if (lf < 0) {
        if (this.lineBytes + this.buffer.length > this.limits.maxLine) {
          // Too long and no end in sight: the rest of this line is skipped as it comes.
          const tag = this.skipping ? undefined : tagOf(this.firstText() + this.buffer.toString('latin1'));
          if (!this.skipping) out.push({ kind: 'error', tag, text: 'Command line too long', fatal: false });
          this.startSkipping();
          this.buffer = Buffer.alloc(0);
        }
        break;
      }
      // Lenient: a bare LF ends a line too, as in Dovecot.
      const end = lf > 0 && this.buffer[lf - 1] === 0x0d ? lf - 1 : lf;
      const raw = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(lf + 1);
      if (this.skipping) {
        this.skipLine(raw);
        continue;
      }
      const event = this.line(raw);
      if (event) out.push(event);
    }
    return out;
  }

  private firstText(): string {
    return typeof this.parts[0] === 'string' ? this.parts[0] : '';
  }

  private startSkipping(): void {
    this.skipping = true;
    this.parts = [];
    this.literals = 0;
    this.lineBytes = 0;
  }

  /** While skipping a command: a non-synchronizing literal's bytes are skipped too; the command ends at a line without one. */
  private skipLine(raw: Buffer): void {
    const text = raw.toString('latin1');
    const m = LITERAL_AT_END.exec(text);
    if (m && m[3] === '+') {
      this.literal = { size: Number(m[2]), chunks: [], got: 0 };
      return;
    }
    this.skipping = false;
  }

  private line(raw: Buffer): ReaderEvent | undefined {
    const text = raw.toString('utf8');
    this.lineBytes += raw.length;
    const tag = tagOf(this.firstText() + text);
    if (this.lineBytes > this.limits.maxLine) {
      this.startSkipping();
      this.skipLine(raw);
      return { kind: 'error', tag, text: 'Command line too long', fatal: false };
    }
    if (raw.includes(0)) return this.refuse(raw, tag, 'NUL is not allowed in a command');
    if (raw.includes(0x0d)) return this.refuse(raw, tag, 'Bare CR in a command');
    if (text.includes('\uFFFD')) return this.refuse(raw, tag, 'The command is not valid UTF-8');
    const m = LITERAL_AT_END.exec(text);
    if (!m) {
      this.parts.push(text);
      const frame = { parts: this.parts };
      this.parts = [];
      this.literals = 0;
      this.lineBytes = 0;
      return { kind: 'frame', frame };
    }
    const size = Number(m[2]);
    const nonSync = m[3] === '+';
    this.parts.push(text);
    if (++this.literals > this.limits.maxLiterals) return this.refuse(raw, tag, 'Too many literals in one command');
    // LITERAL+ is offered: a non-synchronizing literal may be as large as any other.
    if (size > this.limits.maxLiteral) {
      if (!nonSync) {
        // The client waits for our "+" before sending: nothing more of this command will come.
        this.parts = [];
        this.literals = 0;
        this.lineBytes = 0;
        return { kind: 'error', tag, text: `Literal too large (at most ${this.limits.maxLiteral} bytes)`, fatal: false };
      }
      this.startSkipping();
      return { kind: 'error', tag, text: `Literal too large (at most ${this.limits.maxLiteral} bytes)`, fatal: true };
    }
    this.literal = { size, chunks: [], got: 0 };
    return nonSync ? undefined : { kind: 'continue', size };
  }

  /** Refuses the command; what of it is still to come is skipped. */
  private refuse(raw: Buffer, tag: string | undefined, text: string): ReaderEvent {
    this.startSkipping();
    this.skipLine(raw);
    return { kind: 'error', tag, text, fatal: false };
  }
}
