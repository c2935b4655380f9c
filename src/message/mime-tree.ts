/**
 * The MIME structure of a stored message (RFC 2045, 2046) with the byte offsets of every
 * part's header and body, as IMAP's BODY[section], BODYSTRUCTURE and BINARY need them
 * (RFC 9051 §6.4.5): the message itself is never copied or decoded to build it. Header
 * values are parsed with libmime (Content-Type parameters, RFC 2231 continuations).
 */
import libmime from 'libmime';
import { parseHeaderFields, type HeaderField } from './headers.js';

export interface MimePart {
  /** Offsets into the message: header [headerStart, bodyStart) including the blank line, body [bodyStart, end). */
  readonly headerStart: number;
  readonly bodyStart: number;
  readonly end: number;
  readonly header: readonly HeaderField[];
  /** Lower case: "text", "plain"; the RFC 2045 default text/plain when absent. */
  readonly type: string;
  readonly subtype: string;
  readonly params: Readonly<Record<string, string>>;
  /** Children of a multipart; empty otherwise. */
  readonly parts: readonly MimePart[];
  /** The message inside a message/rfc822 (or message/global) part. */
  readonly message?: MimePart;
  /** Lines in the body. */
  readonly lines: number;
}

// Limits against hostile messages: nesting, and how many parts are indexed.
const MAX_DEPTH = 32;
const MAX_PARTS = 2000;

/** Parses the structure of `data` (a whole message, CRLF or bare LF line endings). */
export function parseMimeTree(data: Buffer): MimePart {
  const budget = { parts: 0 };
  return part(data, 0, data.length, 0, budget, { type: 'text', subtype: 'plain' });
}

/** The value of the first header field named `name` (case-insensitive), or undefined. */
export function headerValue(part: MimePart, name: string): string | undefined {
  const lower = name.toLowerCase();
  return part.header.find((f) => f.name.toLowerCase() === lower)?.value;
}

function part(data: Buffer, start: number, end: number, depth: number, budget: { parts: number }, fallback: { type: string; subtype: string }): MimePart {
  budget.parts++;
  const bodyStart = findBodyStart(data, start, end);
  const header = parseHeaderFields(data.subarray(start, bodyStart));
  const ct = header.find((f) => f.name.toLowerCase() === 'content-type');
  let type = fallback.type;
  let subtype = fallback.subtype;
  let params: Record<string, string> = {};
  if (ct) {
    const parsed = libmime.parseHeaderValue(ct.value);
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\/([!#$%&'*+\-.^_`|~0-9A-Za-z]+)$/.exec(String(parsed.value).trim());
    // RFC 2045 §5.2: an invalid Content-Type is read as text/plain; charset=us-ascii.
    if (m) {
      type = m[1]!.toLowerCase();
      subtype = m[2]!.toLowerCase();
      params = Object.fromEntries(Object.entries(parsed.params as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]));
    }
  }
  if (type === 'text' && !params.charset && !ct) params = { charset: 'us-ascii' };
  const lines = countLines(data, bodyStart, end);
  const base = { headerStart: start, bodyStart, end, header, type, subtype, params, lines };
  if (depth < MAX_DEPTH && budget.parts < MAX_PARTS) {
    if (type === 'multipart' && params.boundary) {
      // RFC 2046 §5.1.5: in multipart/digest, a part's default type is message/rfc822.
      const inner = subtype === 'digest' ? { type: 'message', subtype: 'rfc822' } : { type: 'text', subtype: 'plain' };
      const parts = splitMultipart(data, bodyStart, end, params.boundary).map(([s, e]) => part(data, s, e, depth + 1, budget, inner));
      return { ...base, parts };
    }
    if (type === 'message' && (subtype === 'rfc822' || subtype === 'global')) {
      return { ...base, parts: [], message: part(data, bodyStart, end, depth + 1, budget, { type: 'text', subtype: 'plain' }) };
    }
  }
  return { ...base, parts: [] };
}

/** Where the body starts: after the first empty line; `end` when the part is all header. */
function findBodyStart(data: Buffer, start: number, end: number): number {
  // A part that starts with an empty line has no header.
  if (data[start] === 0x0a) return start + 1;
  if (data[start] === 0x0d && data[start + 1] === 0x0a) return start + 2;
  let i = start;
  while (i < end) {
    const lf = data.indexOf(0x0a, i);
    if (lf < 0 || lf >= end) return end;
    const next = lf + 1;
    if (data[next] === 0x0a && next < end) return next + 1;
    if (data[next] === 0x0d && data[next + 1] === 0x0a && next + 1 < end) return next + 2;
    i = next;
  }
  return end;
}

function countLines(data: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = data.indexOf(0x0a, start); i >= 0 && i < end; i = data.indexOf(0x0a, i + 1)) n++;
  // A last line without its line ending counts too.
  if (end > start && data[end - 1] !== 0x0a) n++;
  return n;
}

/**
 * The byte ranges of a multipart body's parts (RFC 2046 §5.1.1): between delimiter lines
 * "--boundary", up to "--boundary--"; the line ending before a delimiter belongs to it.
 */
function splitMultipart(data: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const delimiter = Buffer.from(`--${boundary}`);
  const ranges: [number, number][] = [];
  let partStart = -1;
  let lineStart = start;
  while (lineStart < end) {
    let lf = data.indexOf(0x0a, lineStart);
    if (lf < 0 || lf >= end) lf = end;
    if (data.subarray(lineStart, lineStart + delimiter.length).equals(delimiter)) {
      const rest = data.subarray(lineStart + delimiter.length, lf).toString('latin1');
      const closing = rest.startsWith('--');
      // Lenient: whitespace after a delimiter is allowed (RFC 2046 §5.1.1 transport padding).
      if (/^(--)?[ \t]*\r?$/.test(rest)) {
        if (partStart >= 0) {
          let partEnd = lineStart;
          if (data[partEnd - 1] === 0x0a) partEnd--;
          if (data[partEnd - 1] === 0x0d) partEnd--;
          ranges.push([partStart, Math.max(partStart, partEnd)]);
        }
        if (closing) return ranges;
        partStart = Math.min(lf + 1, end);
      }
    }
    lineStart = lf + 1;
  }
  // Lenient: no closing delimiter; the last part runs to the end.
  if (partStart >= 0 && partStart < end) ranges.push([partStart, end]);
  return ranges;
}
