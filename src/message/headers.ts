/** One header field, unfolded (RFC 5322 §2.2.3), name as written. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Where the header section of a CRLF-canonical message ends: the offset just past the
 * empty line, or undefined if `data` does not contain it yet. A message that starts
 * with an empty line has no header fields (offset 2).
 */
export function headerEnd(data: Buffer): number | undefined {
  if (data.length >= 2 && data[0] === 0x0d && data[1] === 0x0a) return 2;
  const i = data.indexOf(CRLFCRLF);
  return i < 0 ? undefined : i + 4;
}

/** The fields of a header section. Lines that are not fields (no colon) are skipped. */
export function parseHeaderFields(header: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const raw of header.toString('utf8').split(/\r\n(?![ \t])/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const name = raw.slice(0, colon).trim();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    fields.push({ name, value: raw.slice(colon + 1).replace(/\r\n/g, '').trim() });
  }
  return fields;
}

/** The values of every field called `name` (case-insensitive). */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
}

/**
 * Collects a streamed message until its header section is complete (or `maxBytes`
 * pass), so that it can be checked or amended before the body flows on.
 */
export class HeaderCollector {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private done = false;

  constructor(private readonly maxBytes: number) {}

  /**
   * Feeds CRLF-canonical data. Returns undefined while the header is incomplete; then,
   * once, the header section (with its empty line) and the body bytes seen so far.
   * Past `maxBytes` without an empty line, the whole collected data counts as header.
   */
  push(chunk: Buffer): { header: Buffer; rest: Buffer } | undefined {
    if (this.done) throw new Error('header already complete');
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const data = Buffer.concat(this.chunks, this.bytes);
    this.chunks = [data];
    const end = headerEnd(data) ?? (this.bytes > this.maxBytes ? this.bytes : undefined);
    if (end === undefined) return undefined;
    this.done = true;
    this.chunks = [];
    return { header: data.subarray(0, end), rest: data.subarray(end) };
  }

  /** At end of data: whatever was collected (a message with no empty line is all header). */
  end(): Buffer | undefined {
    if (this.done) return undefined;
    this.done = true;
    return Buffer.concat(this.chunks, this.bytes);
  }
}
