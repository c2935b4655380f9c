/**
 * Parses a framed IMAP command (RFC 9051 §9, the formal syntax) into its tag, name and a
 * tree of arguments: atoms, strings (quoted or literal) and parenthesized lists. What each
 * command's arguments mean is read by the helpers in args.ts.
 */
import type { Frame } from './reader.js';

export type Value =
  /** An atom as written (NIL, flags, sequence sets, numbers and section specs like BODY[1.2]<0.100> are atoms here). */
  | { readonly kind: 'atom'; readonly text: string }
  | { readonly kind: 'string'; readonly data: Buffer; readonly literal: boolean; readonly binary: boolean }
  | { readonly kind: 'list'; readonly items: readonly Value[] };

export interface Command {
  readonly tag: string;
  /** The command name in capitals; for UID commands, "UID FETCH" and the like. */
  readonly name: string;
  readonly args: readonly Value[];
}

export class ParseError extends Error {
  constructor(
    message: string,
    readonly tag?: string,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 16;
const TAG = /^[\x21\x23\x24\x26\x27\x2c-\x5a\x5e-\x7a\x7c\x7e]+$/;
// Ends an atom: space, parentheses, quote, brace, and the controls.
const ATOM_END = new Set([' ', '(', ')', '"', '{']);

/** Walks the text parts and literals of a frame. */
class Cursor {
  private part = 0;
  private pos = 0;

  constructor(private readonly parts: readonly (string | Buffer)[]) {}

  private get text(): string {
    const p = this.parts[this.part];
    return typeof p === 'string' ? p : '';
  }

  atEnd(): boolean {
    return this.part >= this.parts.length - 1 && this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  next(): string {
    return this.text[this.pos++] ?? '';
  }

  /** At a literal announcement closing this text part: its data, and whether it was ~{n} (binary). */
  literal(): { data: Buffer; binary: boolean } | undefined {
    const rest = this.text.slice(this.pos);
    const m = /^(~?)\{\d+\+?\}$/.exec(rest);
    const data = this.parts[this.part + 1];
    if (!m || !Buffer.isBuffer(data)) return undefined;
    this.part += 2;
    this.pos = 0;
    return { data, binary: m[1] === '~' };
  }

  /** Reads up to the next space or end (the command name, the tag). */
  word(): string {
    const t = this.text;
    let end = t.indexOf(' ', this.pos);
    if (end < 0) end = t.length;
    const w = t.slice(this.pos, end);
    this.pos = end;
    return w;
  }
}

/** Parses a frame; throws ParseError with a sentence (and the tag, when it was readable). */
export function parseCommand(frame: Frame): Command {
  const c = new Cursor(frame.parts);
  const tag = c.word();
  if (!TAG.test(tag)) throw new ParseError('Invalid or missing tag');
  if (c.next() !== ' ') throw new ParseError('Missing command', tag);
  let name = c.word().toUpperCase();
  if (!/^[A-Z][A-Z0-9-]{0,31}$/.test(name)) throw new ParseError('Invalid command name', tag);
  if (name === 'UID') {
    if (c.next() !== ' ') throw new ParseError('UID needs a command', tag);
    const sub = c.word().toUpperCase();
    if (!/^[A-Z]{1,16}$/.test(sub)) throw new ParseError('Invalid command after UID', tag);
    name = `UID ${sub}`;
  }
  const args: Value[] = [];
  try {
    while (!c.atEnd()) {
      if (c.next() !== ' ') throw new ParseError('Expected a space between arguments', tag);
      args.push(value(c, 0));
    }
  } catch (err) {
    throw err instanceof ParseError ? new ParseError(err.message, tag) : err;
  }
  return { tag, name, args };
}

function value(c: Cursor, depth: number): Value {
  const ch = c.peek();
  if (ch === '(') {
    if (depth >= MAX_DEPTH) throw new ParseError('Lists nested too deeply');
    c.next();
    const items: Value[] = [];
    for (;;) {
      if (c.peek() === ')') {
        c.next();
        return { kind: 'list', items };
      }
      if (c.peek() === '') throw new ParseError('Unterminated list');
      if (items.length > 0 && c.next() !== ' ') throw new ParseError('Expected a space or ) in a list');
      if (c.peek() === '') throw new ParseError('Unterminated list');
      items.push(value(c, depth + 1));
    }
  }
  if (ch === '"') return quoted(c);
  if (ch === '{' || ch === '~') {
    const lit = c.literal();
    if (lit) return { kind: 'string', data: lit.data, literal: true, binary: lit.binary };
    if (ch === '{') throw new ParseError('Invalid literal');
  }
  return atom(c);
}

function quoted(c: Cursor): Value {
  c.next();
  let out = '';
  for (;;) {
    const ch = c.next();
    if (ch === '') throw new ParseError('Unterminated quoted string');
    if (ch === '"') return { kind: 'string', data: Buffer.from(out), literal: false, binary: false };
    if (ch === '\\') {
      const e = c.next();
      // RFC 9051 §4.3: only \\ and \" are escapes in a quoted string.
      if (e !== '\\' && e !== '"') throw new ParseError('Invalid escape in a quoted string');
      out += e;
      continue;
    }
    out += ch;
  }
}

function atom(c: Cursor): Value {
  let out = '';
  let brackets = 0;
  for (;;) {
    const ch = c.peek();
    if (ch === '') break;
    // Inside [...] (a section spec) spaces and parentheses belong to the atom.
    if (brackets === 0 && ATOM_END.has(ch)) break;
    if (ch < ' ' || ch === '\x7f') throw new ParseError('Control character in an atom');
    if (ch === '[') brackets++;
    if (ch === ']') {
      if (brackets === 0) throw new ParseError('Unbalanced ] in an atom');
      brackets--;
    }
    out += c.next();
  }
  if (brackets > 0) throw new ParseError('Unterminated [ in an atom');
  if (out === '') throw new ParseError('Expected an argument');
  return { kind: 'atom', text: out };
}
