/**
 * SEARCH criteria (RFC 9051 §6.4.4, RFC 4731 ESEARCH's RETURN options, RFC 7162 MODSEQ),
 * read into a tree the server evaluates against each message.
 */
import { ParseError, type Value } from './parser.js';
import { parseSequenceSet, type SeqRange } from './sequence.js';
import { parseDate } from './encode.js';

export type SearchKey =
  | { readonly op: 'all' }
  | { readonly op: 'none' }
  | { readonly op: 'seq' | 'uid'; readonly set: readonly SeqRange[] }
  | { readonly op: 'flag'; readonly flag: string; readonly set: boolean }
  | { readonly op: 'header'; readonly field: string; readonly value: string }
  | { readonly op: 'body' | 'text'; readonly value: string }
  | { readonly op: 'date'; readonly of: 'internal' | 'sent'; readonly cmp: 'before' | 'on' | 'since'; readonly day: number }
  | { readonly op: 'larger' | 'smaller'; readonly size: number }
  | { readonly op: 'modseq'; readonly modseq: number }
  | { readonly op: 'not'; readonly key: SearchKey }
  | { readonly op: 'or'; readonly a: SearchKey; readonly b: SearchKey }
  | { readonly op: 'and'; readonly keys: readonly SearchKey[] };

export type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

export interface SearchRequest {
  readonly key: SearchKey;
  /** RFC 4731: undefined for a plain SEARCH (an untagged SEARCH response); empty list means ALL. */
  readonly returns?: readonly ReturnOption[];
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], DELETED: ['\\Deleted', true], DRAFT: ['\\Draft', true], FLAGGED: ['\\Flagged', true], SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false], UNDELETED: ['\\Deleted', false], UNDRAFT: ['\\Draft', false], UNFLAGGED: ['\\Flagged', false], UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
};
const MAX_KEYS = 1000;

class Keys {
  private i = 0;
  constructor(
    private readonly values: readonly Value[],
    /** Keys read so far in the whole command, nested lists included. */
    readonly budget = { used: 0 },
  ) {}
  done(): boolean {
    return this.i >= this.values.length;
  }
  take(what: string): Value {
    const v = this.values[this.i++];
    if (!v) throw new ParseError(`SEARCH: ${what} is missing`);
    return v;
  }
  text(what: string): string {
    const v = this.take(what);
    if (v.kind === 'list') throw new ParseError(`SEARCH: ${what} must be a string`);
    return v.kind === 'atom' ? v.text : v.data.toString('utf8');
  }
  number(what: string): number {
    const t = this.text(what);
    if (!/^\d{1,19}$/.test(t)) throw new ParseError(`SEARCH: ${what} must be a number`);
    return Number(t);
  }
}

function key(k: Keys, depth: number): SearchKey {
  if (++k.budget.used > MAX_KEYS || depth > 32) throw new ParseError('SEARCH: too many criteria');
  const v = k.take('a search key');
  if (v.kind === 'list') {
    if (v.items.length === 0) throw new ParseError('SEARCH: an empty parenthesized list');
    return { op: 'and', keys: all(new Keys(v.items, k.budget), depth + 1) };
  }
  if (v.kind === 'string') throw new ParseError('SEARCH: a search key was expected, not a string');
  const name = v.text.toUpperCase();
  if (name === 'ALL') return { op: 'all' };
  const flag = FLAG_KEYS[name];
  if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
  if (HEADER_KEYS.has(name)) return { op: 'header', field: name, value: k.text(`${name}'s text`) };
  if (name === 'HEADER') return { op: 'header', field: k.text('the header field').toUpperCase(), value: k.text('the header text') };
  if (name === 'BODY' || name === 'TEXT') return { op: name === 'BODY' ? 'body' : 'text', value: k.text(`${name}'s text`) };
  if (name === 'KEYWORD' || name === 'UNKEYWORD') return { op: 'flag', flag: k.text('the keyword'), set: name === 'KEYWORD' };
  const date = DATE_KEYS[name];
  if (date) {
    const day = parseDate(k.text(`${name}'s date`));
    if (day === undefined) throw new ParseError(`SEARCH: ${name} needs a date like 6-Dec-2026`);
    return { op: 'date', of: date[0], cmp: date[1], day };
  }
  if (name === 'LARGER' || name === 'SMALLER') return { op: name === 'LARGER' ? 'larger' : 'smaller', size: k.number(`${name}'s size`) };
  if (name === 'UID') {
    const set = parseSequenceSet(k.text('the UID set'));
    if (!set) throw new ParseError('SEARCH: invalid UID set');
    return { op: 'uid', set };
  }
  if (name === 'NOT') return { op: 'not', key: key(k, depth + 1) };
  if (name === 'OR') return { op: 'or', a: key(k, depth + 1), b: key(k, depth + 1) };
  if (name === 'MODSEQ') {
    // RFC 7162 §3.1.5: an optional entry name and type come first; we keep no per-flag modseqs, so they are read and not used.
    let n = k.text('the MODSEQ value');
    if (!/^\d+$/.test(n)) {
      k.text('the entry type');
      n = k.text('the MODSEQ value');
    }
    if (!/^\d{1,19}$/.test(n)) throw new ParseError('SEARCH: MODSEQ needs a number');
    return { op: 'modseq', modseq: Number(n) };
  }
  // IMAP4rev1's \Recent keys (RFC 3501): no message is \Recent here (RFC 9051 removed it).
  if (name === 'NEW' || name === 'RECENT') return { op: 'none' };
  if (name === 'OLD') return { op: 'all' };
  const set = parseSequenceSet(v.text);
  if (set) return { op: 'seq', set };
  throw new ParseError(`SEARCH: unknown search key ${v.text.slice(0, 40)}`);
}

function all(k: Keys, depth: number): SearchKey[] {
  const keys: SearchKey[] = [];
  while (!k.done()) keys.push(key(k, depth));
  return keys;
}

/** Reads SEARCH's arguments: [RETURN (...)] [CHARSET x] criteria. */
export function parseSearch(args: readonly Value[]): SearchRequest {
  let i = 0;
  let returns: ReturnOption[] | undefined;
  const word = (v: Value | undefined) => (v?.kind === 'atom' ? v.text.toUpperCase() : '');
  if (word(args[0]) === 'RETURN') {
    const list = args[1];
    if (list?.kind !== 'list') throw new ParseError('SEARCH RETURN needs a list of options');
    returns = list.items.map((o) => {
      const w = word(o);
      if (!['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'].includes(w)) throw new ParseError(`SEARCH: unknown RETURN option ${w || 'a string'}`);
      return w as ReturnOption;
    });
    i = 2;
  }
  if (word(args[i]) === 'CHARSET') {
    const cs = args[i + 1];
    const name = cs?.kind === 'atom' ? cs.text : cs?.kind === 'string' ? cs.data.toString() : '';
    // RFC 9051 §6.4.4: UTF-8 and US-ASCII must be supported; we search UTF-8 text.
    if (!/^(UTF-8|US-ASCII)$/i.test(name)) throw new ParseError('[BADCHARSET (UTF-8 US-ASCII)] Only UTF-8 and US-ASCII searches are supported');
    i += 2;
  }
  const k = new Keys(args.slice(i));
  if (k.done()) throw new ParseError('SEARCH needs at least one search key');
  const keys = all(k, 0);
  return { key: keys.length === 1 ? keys[0]! : { op: 'and', keys }, returns };
}
