/**
 * Evaluates SEARCH criteria (RFC 9051 §6.4.4) against one message: flags, sizes and dates
 * from the listing; header and text searches (case-insensitive substrings) from the parsed
 * message, encoded words and transfer encodings undone, text parts read in their charset.
 */
import libmime from 'libmime';
import libcharset from 'libmime/lib/charset.js';
import { inSequenceSet, type SearchKey } from '../../imap/index.js';
import type { FolderMessage } from '../../mailstore/index.js';
import { headerValue, type MimePart } from '../../message/index.js';
import { decodedBody } from './message-view.js';

export interface Candidate {
  readonly message: FolderMessage;
  readonly seq: number;
  readonly count: number;
  readonly largestUid: number;
  /** Present when the criteria need the content (needsContent). */
  readonly data?: Buffer;
  readonly tree?: MimePart;
}

/** True if evaluating `key` needs the message's content. */
export function needsContent(key: SearchKey): boolean {
  switch (key.op) {
    case 'header':
    case 'body':
    case 'text':
      return true;
    case 'date':
      return key.of === 'sent';
    case 'not':
      return needsContent(key.key);
    case 'or':
      return needsContent(key.a) || needsContent(key.b);
    case 'and':
      return key.keys.some(needsContent);
    default:
      return false;
  }
}

const DAY = 86_400_000;

function compareDay(ms: number, cmp: 'before' | 'on' | 'since', day: number): boolean {
  const d = Math.floor(ms / DAY) * DAY;
  return cmp === 'before' ? d < day : cmp === 'on' ? d === day : d >= day;
}

const fold = (s: string) => s.normalize('NFKC').toLowerCase();

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** The text of every text part, decoded, for BODY and TEXT searches. */
function bodyText(data: Buffer, node: MimePart): string {
  if (node.parts.length) return node.parts.map((p) => bodyText(data, p)).join('\n');
  if (node.message) return bodyText(data, node.message);
  if (node.type !== 'text') return '';
  const bytes = decodedBody(data, node) ?? data.subarray(node.bodyStart, node.end);
  // libmime's decoder knows the Japanese charsets iconv-lite does not (ISO-2022-JP, common in business mail).
  try {
    return libcharset.decode(bytes, node.params.charset ?? 'utf-8');
  } catch {
    return bytes.toString('utf8');
  }
}

export function matches(key: SearchKey, c: Candidate): boolean {
  const m = c.message;
  switch (key.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'seq':
      return inSequenceSet(key.set, c.seq, c.count);
    case 'uid':
      return inSequenceSet(key.set, m.uid, c.largestUid);
    case 'flag': {
      const has = m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
      return has === key.set;
    }
    case 'larger':
      return m.size > key.size;
    case 'smaller':
      return m.size < key.size;
    case 'modseq':
      return m.modseq >= key.modseq;
    case 'date': {
      if (key.of === 'internal') return compareDay(m.internalDate, key.cmp, key.day);
      const sent = Date.parse(headerValue(c.tree!, 'Date') ?? '');
      return !Number.isNaN(sent) && compareDay(sent, key.cmp, key.day);
    }
    case 'header': {
      const want = fold(key.value);
      const values = c.tree!.header.filter((f) => f.name.toUpperCase() === key.field).map((f) => f.value);
      // RFC 9051 §6.4.4: HEADER with an empty string matches every message that has the field.
      return values.some((v) => want === '' || fold(v).includes(want) || fold(decodeWords(v)).includes(want));
    }
    case 'body':
    case 'text': {
      const want = fold(key.value);
      const body = fold(bodyText(c.data!, c.tree!));
      if (body.includes(want)) return true;
      return key.op === 'text' && c.tree!.header.some((f) => fold(`${f.name}: ${decodeWords(f.value)}`).includes(want));
    }
    case 'not':
      return !matches(key.key, c);
    case 'or':
      return matches(key.a, c) || matches(key.b, c);
    case 'and':
      return key.keys.every((k) => matches(k, c));
  }
}
