/**
 * FETCH data items (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ/CHANGEDSINCE): what
 * the client asks for, read from the command's arguments.
 */
import { ParseError, type Value } from './parser.js';

/** A body section (RFC 9051 §6.4.5 BODY[<section>]). */
export interface Section {
  /** Part numbers ("1.2" → [1, 2]); empty: the whole message. */
  readonly part: readonly number[];
  readonly text?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** For HEADER.FIELDS[.NOT]: field names, in capitals. */
  readonly fields?: readonly string[];
}

export type FetchItem =
  | { readonly kind: 'FLAGS' | 'UID' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ' }
  | {
      readonly kind: 'section';
      /** BODY[...] and its RFC822 forms, or BINARY[...] (content transfer decoding). */
      readonly binary: boolean;
      /** BODY.PEEK, BINARY.PEEK, RFC822.HEADER: \Seen is not set. */
      readonly peek: boolean;
      readonly section: Section;
      readonly partial?: { readonly start: number; readonly length: number };
      /** The item's name in the response: "BODY[HEADER]<0>", "RFC822", "BINARY[1]". */
      readonly label: string;
    }
  | { readonly kind: 'BINARY.SIZE'; readonly part: readonly number[]; readonly label: string };

export interface FetchRequest {
  readonly items: readonly FetchItem[];
  /** RFC 7162 §3.1.4: only messages whose modseq is above this. */
  readonly changedSince?: number;
  /** RFC 7162 §3.2.6 (UID FETCH with QRESYNC): also report expunged UIDs. */
  readonly vanished: boolean;
}

const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const SIMPLE = new Set(['FLAGS', 'UID', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'MODSEQ']);
const SECTION_ITEM = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/i;

/** Reads the section spec between the brackets. */
export function parseSection(spec: string): Section {
  if (spec === '') return { part: [] };
  const m = /^((?:[1-9]\d{0,5})(?:\.[1-9]\d{0,5})*)?(?:\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)(?: \(([^()]*)\))?)?$/i.exec(spec);
  if (!m || (m[1] === undefined && m[2] === undefined)) throw new ParseError(`Invalid section: [${spec}]`);
  if (m[1] !== undefined && m[2] !== undefined && spec[m[1].length] !== '.') throw new ParseError(`Invalid section: [${spec}]`);
  const part = m[1] ? m[1].split('.').map(Number) : [];
  const text = m[2]?.toUpperCase() as Section['text'];
  if (text === 'MIME' && part.length === 0) throw new ParseError('MIME needs a part number');
  const wantsFields = text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT';
  if (wantsFields !== (m[3] !== undefined)) throw new ParseError(`Invalid section: [${spec}]`);
  const fields = m[3]?.split(' ').map((f) => f.replace(/^"(.*)"$/, '$1').toUpperCase());
  if (fields && (fields.length === 0 || fields.some((f) => !/^[\x21-\x39\x3b-\x7e]+$/.test(f)))) throw new ParseError('Invalid header field name in a section');
  return { part, text, fields };
}

function sectionItem(text: string): FetchItem {
  const m = SECTION_ITEM.exec(text);
  if (!m) throw new ParseError(`Unknown FETCH item: ${text.slice(0, 60)}`);
  const name = m[1]!.toUpperCase();
  const section = parseSection(m[2]!);
  if (name === 'BINARY.SIZE') {
    if (section.text || m[3] !== undefined) throw new ParseError('BINARY.SIZE takes part numbers only');
    return { kind: 'BINARY.SIZE', part: section.part, label: `BINARY.SIZE[${section.part.join('.')}]` };
  }
  const binary = name.startsWith('BINARY');
  if (binary && section.text) throw new ParseError('BINARY takes part numbers only');
  const partial = m[3] !== undefined ? { start: Number(m[3]), length: Number(m[4]) } : undefined;
  if (partial && partial.length === 0) throw new ParseError('A partial FETCH needs a length above 0');
  const spec = section.part.join('.') + (section.text ? `${section.part.length ? '.' : ''}${section.text}` : '') + (section.fields ? ` (${section.fields.join(' ')})` : '');
  // RFC 9051 §7.5.2: the response names the section without PEEK, and a partial by its start only.
  const label = `${binary ? 'BINARY' : 'BODY'}[${spec}]${partial ? `<${partial.start}>` : ''}`;
  return { kind: 'section', binary, peek: name.endsWith('.PEEK'), section, partial, label };
}

function item(text: string): FetchItem[] {
  const upper = text.toUpperCase();
  if (SIMPLE.has(upper)) return [{ kind: upper as 'FLAGS' }];
  if (upper === 'RFC822') return [{ kind: 'section', binary: false, peek: false, section: { part: [] }, label: 'RFC822' }];
  if (upper === 'RFC822.HEADER') return [{ kind: 'section', binary: false, peek: true, section: { part: [], text: 'HEADER' }, label: 'RFC822.HEADER' }];
  if (upper === 'RFC822.TEXT') return [{ kind: 'section', binary: false, peek: false, section: { part: [], text: 'TEXT' }, label: 'RFC822.TEXT' }];
  return [sectionItem(text)];
}

/** Reads FETCH's arguments after the sequence set: items (a macro, one item or a list) and modifiers. */
export function parseFetch(args: readonly Value[]): FetchRequest {
  const [what, modifiers, ...rest] = args;
  if (!what || rest.length) throw new ParseError('FETCH needs a sequence set, items and optionally modifiers');
  let items: FetchItem[];
  if (what.kind === 'atom' && MACROS[what.text.toUpperCase()]) items = MACROS[what.text.toUpperCase()]!.flatMap(item);
  else if (what.kind === 'atom') items = item(what.text);
  else if (what.kind === 'list' && what.items.length > 0) {
    items = what.items.flatMap((v) => {
      if (v.kind !== 'atom') throw new ParseError('FETCH items are atoms');
      return item(v.text);
    });
  } else throw new ParseError('Invalid FETCH items');
  let changedSince: number | undefined;
  let vanished = false;
  if (modifiers) {
    if (modifiers.kind !== 'list') throw new ParseError('FETCH modifiers are a parenthesized list');
    for (let i = 0; i < modifiers.items.length; i++) {
      const m = modifiers.items[i]!;
      const name = m.kind === 'atom' ? m.text.toUpperCase() : '';
      if (name === 'CHANGEDSINCE') {
        const n = modifiers.items[++i];
        if (n?.kind !== 'atom' || !/^\d{1,19}$/.test(n.text)) throw new ParseError('CHANGEDSINCE needs a number');
        changedSince = Number(n.text);
      } else if (name === 'VANISHED') vanished = true;
      else throw new ParseError(`Unknown FETCH modifier: ${name || 'a string'}`);
    }
    if (vanished && changedSince === undefined) throw new ParseError('VANISHED needs CHANGEDSINCE');
  }
  // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ in the response.
  if (changedSince !== undefined && !items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
  return { items, changedSince, vanished };
}
