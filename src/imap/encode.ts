/**
 * Response encoding (RFC 9051 §7, §9): strings as quoted or literal, NIL, dates. A response
 * is a list of chunks: text, and raw bytes for literal data (message bodies are never
 * turned into text).
 */
import { encodeMutf7 } from './mutf7.js';

export type Chunk = string | Buffer;

/** A string value: quoted when it can be, otherwise a literal. `utf8`: the client accepts UTF-8 in quoted strings. */
export function str(value: string | Buffer, utf8 = true): Chunk[] {
  const text = typeof value === 'string' ? value : undefined;
  if (text !== undefined && text.length <= 1000 && !/[\r\n\0]/.test(text) && (utf8 || /^[\x01-\x7f]*$/.test(text))) return [`"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`];
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return [`{${bytes.length}}\r\n`, bytes];
}

/** NIL for absent values, else a string. */
export function nstr(value: string | Buffer | null | undefined, utf8 = true): Chunk[] {
  return value === null || value === undefined ? ['NIL'] : str(value, utf8);
}

/** A mailbox name as the client reads it: UTF-8 (IMAP4rev2, UTF8=ACCEPT) or modified UTF-7. */
export function mailbox(name: string, utf8: boolean): Chunk[] {
  return str(utf8 ? name : encodeMutf7(name), utf8);
}

/** Joins chunks into as few pieces as possible (adjacent text merged). */
export function compact(chunks: readonly Chunk[]): Chunk[] {
  const out: Chunk[] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (typeof c === 'string' && typeof last === 'string') out[out.length - 1] = last + c;
    else out.push(c);
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** date-time (RFC 9051 §9): "06-Dec-2026 10:00:00 +0000", in UTC. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Parses date-time (APPEND); undefined when invalid. A one-digit day may have a leading space. */
export function parseDateTime(text: string): number | undefined {
  const m = /^( ?\d|\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  const [day, year, h, min, s, zh, zm] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map((x) => Number(x!.trim()));
  if (month < 0 || day! < 1 || day! > 31 || h! > 23 || min! > 59 || s! > 60 || zm! > 59) return undefined;
  const utc = Date.UTC(year!, month, day!, h!, min!, Math.min(s!, 59));
  if (new Date(utc).getUTCDate() !== day) return undefined;
  const offset = (zh! * 60 + zm!) * 60_000 * (m[7] === '+' ? 1 : -1);
  return utc - offset;
}

/** Parses date (SEARCH): "6-Dec-2026"; the day's start in UTC, or undefined. */
export function parseDate(text: string): number | undefined {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  const day = Number(m[1]);
  const utc = Date.UTC(Number(m[3]), month, day);
  if (month < 0 || new Date(utc).getUTCDate() !== day) return undefined;
  return utc;
}
