/** Where a command writes; injected so commands can be tested without a process. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  /** Where a long job draws its progress bar: a terminal, or absent (no bar). */
  readonly progress?: NodeJS.WriteStream;
}

/** A command's failure: a sentence for the user and an exit code (2: usage, 1: failed). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints rows as aligned columns, or as JSON with --json. */
export function printTable(io: Io, json: boolean, rows: readonly object[], columns: [key: string, title: string][]): void {
  if (json) {
    io.out(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    io.out('(none)');
    return;
  }
  const cells = rows.map((r) => columns.map(([k]) => formatCell((r as Record<string, unknown>)[k])));
  const widths = columns.map(([, title], i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)));
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join('  ');
  io.out(line(columns.map(([, t]) => t)));
  for (const c of cells) io.out(line(c));
}

function formatCell(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v ?? '');
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "500M", "2G", "1048576", "0" (unlimited) → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new CliError(`"${text}" is not a size; use bytes or a number with K, M, G or T (e.g. 2G), or 0 for no limit`, 2);
  return Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
}

export function formatSize(bytes: number): string {
  if (bytes === 0) return 'unlimited';
  for (const u of ['T', 'G', 'M', 'K']) if (bytes >= UNITS[u]! && bytes % UNITS[u]! === 0) return `${bytes / UNITS[u]!}${u}`;
  return `${bytes}`;
}
