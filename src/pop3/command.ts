/** A POP3 command line, parsed (RFC 1939 §3): keyword, then arguments separated by single spaces. */
export interface Pop3Command {
  readonly keyword: string;
  readonly args: readonly string[];
}

export type ParseResult = { ok: true; command: Pop3Command } | { ok: false; error: string };

// RFC 2449 §4: a command line is at most 255 octets including CRLF; we allow some slack
// for long AUTH PLAIN responses (RFC 5034 §4 lets those be longer).
export const MAX_COMMAND_LINE = 1024;

/** Parses one line (without its CRLF). Keywords are case-insensitive (RFC 1939 §3). */
export function parseCommand(line: Buffer): ParseResult {
  if (line.length > MAX_COMMAND_LINE) return { ok: false, error: 'Line too long' };
  if (line.includes(0)) return { ok: false, error: 'NUL in command' };
  const text = line.toString('utf8');
  if (text.includes('\uFFFD')) return { ok: false, error: 'Invalid UTF-8 in command' };
  if (/[\r\n]/.test(text)) return { ok: false, error: 'Bare CR or LF in command' };
  const parts = text.split(' ');
  const keyword = parts[0]!.toUpperCase();
  // RFC 1939 §3: keywords are 3 or 4 characters; RFC 2449 allows up to 40 for extensions.
  if (!/^[A-Z]{3,40}$/.test(keyword)) return { ok: false, error: 'Unknown command' };
  return { ok: true, command: { keyword, args: parts.slice(1) } };
}

/** A message number argument: a positive decimal integer, at most `max` (RFC 1939 §5). */
export function parseMessageNumber(arg: string | undefined, max: number): number | undefined {
  if (arg === undefined || !/^[1-9]\d{0,9}$/.test(arg)) return undefined;
  const n = Number(arg);
  return n <= max ? n : undefined;
}

/** A non-negative decimal line count for TOP. */
export function parseLineCount(arg: string | undefined): number | undefined {
  if (arg === undefined || !/^\d{1,10}$/.test(arg)) return undefined;
  return Number(arg);
}
