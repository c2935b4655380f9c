import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import iconv from 'iconv-lite';
import { ACCOUNT_ROLES, passwordProblem, type AccountRecord, type AccountRole, type DomainRecord } from '../../directory/index.js';
import { AddressError, normalizeAddress } from '../../mail/index.js';
import { badRequest } from './problems.js';

export type CsvEncoding = 'utf-8' | 'shift_jis';

/** Column names as administrators write them, in English or Japanese. */
const COLUMNS: Record<string, 'address' | 'password' | 'name' | 'department' | 'quota' | 'role'> = {
  address: 'address',
  'e-mail': 'address',
  email: 'address',
  mail: 'address',
  メールアドレス: 'address',
  アドレス: 'address',
  password: 'password',
  パスワード: 'password',
  name: 'name',
  氏名: 'name',
  名前: 'name',
  department: 'department',
  部署: 'department',
  quota: 'quota',
  容量: 'quota',
  role: 'role',
  権限: 'role',
};

export const MAX_IMPORT_ROWS = 10_000;

const UNITS: Record<string, number> = { '': 1024 ** 2, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A quota cell: a number of MB, or a number with K, M, G or T; empty or 0: unlimited. */
function quotaOf(text: string): number {
  const m = /^(\d{1,9})\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a quota (a number of MB, or e.g. 2G)`);
  return Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
}

/** The text of an uploaded file: UTF-8 (a BOM is dropped) or Shift_JIS (Windows' CP932), as asked or as detected. */
export function decodeCsv(body: Buffer, encoding: CsvEncoding | 'auto'): { text: string; encoding: CsvEncoding } {
  if (encoding === 'shift_jis') return { text: iconv.decode(body, 'cp932'), encoding };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    return { text: text.replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    if (encoding === 'utf-8') throw badRequest('The file is not valid UTF-8; choose Shift_JIS if it was saved by Excel in Japanese.');
    return { text: iconv.decode(body, 'cp932'), encoding: 'shift_jis' };
  }
}

/** One row as the preview shows it, and what importing it would do. */
export interface ImportRow {
  /** Line number in the file (the header is line 1). */
  readonly line: number;
  readonly address: string;
  readonly name: string;
  readonly department: string;
  readonly quotaBytes: number | null;
  readonly role: AccountRole | null;
  readonly hasPassword: boolean;
  readonly action: 'add' | 'update' | 'error';
  readonly error?: string;
}

export interface ImportPlan {
  readonly rows: ImportRow[];
  /** Passwords by line, kept out of the preview's rows. */
  readonly passwords: Map<number, string>;
}

/**
 * Reads and checks every row before anything is written: each row gets its action (add,
 * update) or the sentence that says what is wrong with it.
 */
export function planImport(
  text: string,
  ctx: { domains: readonly DomainRecord[]; existing: ReadonlyMap<string, AccountRecord>; taken: ReadonlySet<string>; minPasswordLength: number; mayGrant(role: AccountRole): boolean },
): ImportPlan {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (err) {
    throw badRequest(`The file is not valid CSV: ${(err as Error).message}.`);
  }
  const [header, ...data] = records;
  if (!header) throw badRequest('The file is empty; its first line names the columns (address, password, name, department, quota).');
  const columns = header.map((h) => COLUMNS[h.toLowerCase()]);
  if (!columns.includes('address')) throw badRequest(`The first line must name the columns, with one called address (or メールアドレス); it says: ${header.join(', ').slice(0, 200)}.`);
  if (data.length > MAX_IMPORT_ROWS) throw badRequest(`The file has ${data.length} rows; import at most ${MAX_IMPORT_ROWS} at a time.`);
  const hosted = new Set(ctx.domains.map((d) => d.name));
  const seen = new Set<string>();
  const passwords = new Map<number, string>();
  const rows = data.map((record, i): ImportRow => {
    const line = i + 2;
    const cell = (c: string) => record[columns.indexOf(c as never)] ?? '';
    const base = { line, address: cell('address'), name: cell('name'), department: cell('department'), quotaBytes: null, role: null, hasPassword: cell('password') !== '' };
    const fail = (error: string): ImportRow => ({ ...base, action: 'error', error });
    let address: string;
    try {
      address = normalizeAddress(cell('address'));
    } catch (err) {
      return fail(err instanceof AddressError ? `${err.message}.` : 'Not an address.');
    }
    if (!hosted.has(address.slice(address.lastIndexOf('@') + 1))) return fail(`${address.slice(address.lastIndexOf('@') + 1)} is not a domain you manage.`);
    if (seen.has(address)) return fail(`${address} is in the file twice.`);
    seen.add(address);
    if (ctx.taken.has(address)) return fail(`${address} is an alias; remove the alias first.`);
    if (base.name.length > 200 || base.department.length > 200) return fail('Name and department may have at most 200 characters.');
    let quotaBytes: number | null = null;
    try {
      quotaBytes = cell('quota') === '' ? null : quotaOf(cell('quota'));
    } catch (err) {
      return fail(`${(err as Error).message}.`);
    }
    const roleText = cell('role').toLowerCase();
    const role = roleText === '' ? null : (ACCOUNT_ROLES as readonly string[]).includes(roleText) ? (roleText as AccountRole) : undefined;
    if (role === undefined) return fail(`"${cell('role')}" is not a role; use ${ACCOUNT_ROLES.join(', ')}.`);
    if (role && !ctx.mayGrant(role)) return fail(`You may not make ${role}s.`);
    const existing = ctx.existing.get(address);
    const password = cell('password');
    if (!existing && password === '') return fail('A new account needs a password.');
    if (password !== '') {
      const problem = passwordProblem(password, address, ctx.minPasswordLength);
      if (problem) return fail(problem);
      passwords.set(line, password);
    }
    return { ...base, address, quotaBytes, role, action: existing ? 'update' : 'add' };
  });
  return { rows, passwords };
}

// A cell that a spreadsheet would run as a formula (CSV injection) is written as text.
const asText = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

/** Accounts as CSV, in the columns an import reads back (no passwords). */
export function accountsCsv(accounts: readonly AccountRecord[]): string {
  return stringify(
    accounts.map((a) => [a.address, asText(a.name), asText(a.department), a.quotaBytes ? `${Math.round(a.quotaBytes / 1024 ** 2)}M` : '0', a.role, a.disabled ? 'disabled' : 'active']),
    { header: true, columns: ['address', 'name', 'department', 'quota', 'role', 'state'], record_delimiter: 'windows' },
  );
}
