/**
 * Commands of the authenticated state (RFC 9051 §6.3): folders (LIST with LIST-EXTENDED,
 * LIST-STATUS and SPECIAL-USE, RFC 5258/5819/6154), SELECT/EXAMINE with CONDSTORE and
 * QRESYNC (RFC 7162), STATUS, APPEND (UIDPLUS, RFC 4315), NAMESPACE and QUOTA (RFC 9208).
 */
import { decodeMutf7, formatSequenceSet, mailbox, parseDateTime, parseSequenceSet, ParseError, str, type Chunk, type Command, type Value } from '../../imap/index.js';
import { FOLDER_DELIMITER, type Folder } from '../../mailstore/index.js';
import type { ImapContext } from './context.js';
import { bad, no, ok, type Reply } from './replies.js';
import { SelectedMailbox } from './selected.js';
import { folderArg, parseFlags, textOf } from './args.js';

export async function authenticatedCommand(ctx: ImapContext, cmd: Command): Promise<Reply | undefined> {
  switch (cmd.name) {
    case 'SELECT':
    case 'EXAMINE':
      return select(ctx, cmd);
    case 'CREATE': {
      const name = folderArg(ctx, cmd.args[0]);
      // RFC 9051 §6.3.4: a trailing delimiter only says the client means to make subfolders.
      await ctx.call((s) => s.createFolder(ctx.account.id, name.replace(/\/$/, '')));
      return ok('CREATE completed');
    }
    case 'DELETE': {
      const name = folderArg(ctx, cmd.args[0]);
      await ctx.call((s) => s.deleteFolder(ctx.account.id, name));
      if (ctx.selected?.name === name) ctx.selected = undefined;
      return ok('DELETE completed');
    }
    case 'RENAME': {
      if (cmd.args.length !== 2) return bad('Usage: RENAME from to');
      const [from, to] = [folderArg(ctx, cmd.args[0]), folderArg(ctx, cmd.args[1])];
      await ctx.call((s) => s.renameFolder(ctx.account.id, from, to));
      return ok('RENAME completed');
    }
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      const name = folderArg(ctx, cmd.args[0]);
      await ctx.call((s) => s.setSubscribed(ctx.account.id, name, cmd.name === 'SUBSCRIBE'));
      return ok(`${cmd.name} completed`);
    }
    case 'LIST':
    case 'LSUB':
      return list(ctx, cmd);
    case 'NAMESPACE':
      await ctx.untagged([`* NAMESPACE (("" "${FOLDER_DELIMITER}")) NIL NIL`]);
      return ok('NAMESPACE completed');
    case 'STATUS':
      return status(ctx, cmd);
    case 'APPEND':
      return append(ctx, cmd);
    case 'GETQUOTAROOT':
    case 'GETQUOTA':
      return quota(ctx, cmd);
    case 'SETQUOTA':
      return no('Quotas are set by your administrator', 'NOPERM');
  }
  return undefined;
}

async function select(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const name = folderArg(ctx, cmd.args[0]);
  const readOnly = cmd.name === 'EXAMINE';
  // A failed SELECT leaves no folder selected (RFC 9051 §6.3.2); with QRESYNC the client is told (RFC 7162 §3.2.11).
  if (ctx.selected && ctx.qresync) await ctx.untagged(['* OK [CLOSED] Previous folder closed']);
  ctx.selected = undefined;
  let qresync: { uidValidity: number; modseq: number; known?: ReturnType<typeof parseSequenceSet> } | undefined;
  const params = cmd.args[1];
  if (params) {
    if (params.kind !== 'list') return bad('SELECT parameters are a parenthesized list');
    for (let i = 0; i < params.items.length; i++) {
      const p = params.items[i]!;
      const word = p.kind === 'atom' ? p.text.toUpperCase() : '';
      if (word === 'CONDSTORE') ctx.enableCondstore();
      else if (word === 'QRESYNC') {
        if (!ctx.qresync) return bad('QRESYNC must be enabled first (ENABLE QRESYNC)');
        const q = params.items[++i];
        if (q?.kind !== 'list' || q.items.length < 2) return bad('QRESYNC needs (uidvalidity modseq [known-uids])');
        const [v, m, known] = q.items.map((x) => (x.kind === 'atom' ? x.text : ''));
        if (!/^\d{1,10}$/.test(v!) || !/^\d{1,19}$/.test(m!)) return bad('QRESYNC needs (uidvalidity modseq [known-uids])');
        qresync = { uidValidity: Number(v), modseq: Number(m), known: known ? parseSequenceSet(known) : undefined };
      } else return bad(`Unknown SELECT parameter ${word || 'a string'}`);
    }
  }
  const { folder, messages } = await ctx.call((s) => s.messages(ctx.account.id, name));
  const view = new SelectedMailbox(folder, messages, readOnly);
  const flags = '\\Answered \\Flagged \\Deleted \\Seen \\Draft';
  const lines: Chunk[][] = [
    [`* ${messages.length} EXISTS`],
    // IMAP4rev1's \\Recent (RFC 3501): never set here; IMAP4rev2 clients are not told of it.
    ...(ctx.rev2 ? [] : [['* 0 RECENT']]),
    [`* FLAGS (${flags})`],
    [`* OK [PERMANENTFLAGS (${readOnly ? '' : `${flags} \\*`})] Flags permitted`],
    [`* OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid`],
    [`* OK [UIDNEXT ${folder.uidNext}] Predicted next UID`],
    ['* LIST () "/" ', ...mailbox(folder.name, ctx.utf8)],
  ];
  if (ctx.condstore) lines.push([`* OK [HIGHESTMODSEQ ${folder.highestModseq}] Highest`]);
  for (const l of lines) await ctx.untagged(l);
  if (qresync && qresync.uidValidity === folder.uidValidity) {
    const largest = messages.at(-1)?.uid ?? 0;
    const inKnown = (u: number) => !qresync.known || qresync.known.some(([a, b]) => u >= Math.min(a || largest, b || largest) && u <= Math.max(a || largest, b || largest));
    const vanished = (await ctx.call((s) => s.vanishedSince(ctx.account.id, name, qresync.modseq))).filter(inKnown);
    if (vanished.length) await ctx.untagged([`* VANISHED (EARLIER) ${formatSequenceSet(vanished)}`]);
    for (const [i, m] of messages.entries()) {
      if (m.modseq > qresync.modseq) await ctx.untagged([`* ${i + 1} FETCH (UID ${m.uid} FLAGS (${m.flags.join(' ')}) MODSEQ (${m.modseq}))`]);
    }
  }
  ctx.selected = view;
  return ok(`${cmd.name} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/**
 * True if `name` matches a LIST pattern (RFC 9051 §6.3.9): * matches anything, % anything but
 * the delimiter. Matched by dynamic programming, not a regular expression, so that a pattern
 * of many wildcards costs time in proportion to its length times the name's, never more.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  // INBOX is stored in capitals and matches in any case.
  const p = [.../^inbox(?=$|\/)/i.test(pattern) ? 'INBOX' + pattern.slice(5) : pattern];
  const n = [...name];
  // can[j]: the pattern so far matches the first j characters of the name.
  let can = new Array<boolean>(n.length + 1).fill(false);
  can[0] = true;
  for (const c of p) {
    const next = new Array<boolean>(n.length + 1).fill(false);
    for (let j = 0; j <= n.length; j++) {
      if (c === '*' || c === '%') {
        // Zero characters, or one more than the same wildcard took before.
        next[j] = can[j]! || (j > 0 && next[j - 1]! && (c === '*' || n[j - 1] !== FOLDER_DELIMITER));
      } else next[j] = j > 0 && can[j - 1]! && n[j - 1] === c;
    }
    can = next;
  }
  return can[n.length]!;
}

const STATUS_ITEMS = new Set(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE', 'HIGHESTMODSEQ', 'RECENT', 'DELETED', 'APPENDLIMIT']);

function statusItems(v: Value | undefined): string[] {
  if (v?.kind !== 'list' || v.items.length === 0) throw new ParseError('STATUS needs a list of items');
  return v.items.map((i) => {
    const name = i.kind === 'atom' ? i.text.toUpperCase() : '';
    if (!STATUS_ITEMS.has(name)) throw new ParseError(`Unknown STATUS item ${name || 'a string'}`);
    return name;
  });
}

function statusLine(ctx: ImapContext, f: Folder, items: readonly string[]): Chunk[] {
  const value = (item: string): string => {
    switch (item) {
      case 'MESSAGES': return String(f.messages);
      case 'UIDNEXT': return String(f.uidNext);
      case 'UIDVALIDITY': return String(f.uidValidity);
      case 'UNSEEN': return String(f.unseen);
      case 'SIZE': return String(f.bytes);
      case 'HIGHESTMODSEQ': return String(f.highestModseq);
      case 'APPENDLIMIT': return String(ctx.options.maxMessageBytes);
      // RFC 9051 dropped \Recent; DELETED would need a count we do not keep per folder: both 0 for now.
      default: return '0';
    }
  };
  if (items.includes('HIGHESTMODSEQ')) ctx.enableCondstore();
  return ['* STATUS ', ...mailbox(f.name, ctx.utf8), ` (${items.map((i) => `${i} ${value(i)}`).join(' ')})`];
}

async function status(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const name = folderArg(ctx, cmd.args[0]);
  const items = statusItems(cmd.args[1]);
  const f = await ctx.call((s) => s.folder(ctx.account.id, name));
  if (!f) return no(`No folder named ${name}`, 'NONEXISTENT');
  await ctx.untagged(statusLine(ctx, f, items));
  return ok('STATUS completed');
}

async function list(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const args = [...cmd.args];
  const selection = new Set<string>();
  const first = args[0];
  if (cmd.name === 'LIST' && first?.kind === 'list') {
    args.shift();
    for (const o of first.items) selection.add(textOf(o).toUpperCase());
  }
  const returns = new Set<string>();
  let statusWanted: string[] | undefined;
  const retAt = args.findIndex((a, i) => i >= 2 && a.kind === 'atom' && a.text.toUpperCase() === 'RETURN');
  if (retAt >= 0) {
    const opts = args[retAt + 1];
    if (opts?.kind !== 'list') return bad('LIST RETURN needs a list');
    for (let i = 0; i < opts.items.length; i++) {
      const o = textOf(opts.items[i]!).toUpperCase();
      if (o === 'STATUS') statusWanted = statusItems(opts.items[++i]);
      else if (['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE'].includes(o)) returns.add(o);
      else return bad(`Unknown LIST RETURN option ${o}`);
    }
    args.splice(retAt, 2);
  }
  for (const s of selection) if (!['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'].includes(s)) return bad(`Unknown LIST selection option ${s}`);
  if (args.length !== 2) return bad(`Usage: ${cmd.name} reference pattern`);
  const reference = textOf(args[0]!);
  const patternsArg = args[1]!;
  const patterns = (patternsArg.kind === 'list' ? patternsArg.items : [patternsArg]).map((p) => {
    const raw = reference + textOf(p);
    return ctx.utf8 ? raw : decodeMutf7(raw) ?? raw;
  });
  if (patterns.length === 1 && patterns[0] === '') {
    // RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
    await ctx.untagged([`* ${cmd.name} (\\Noselect) "${FOLDER_DELIMITER}" ""`]);
    return ok(`${cmd.name} completed`);
  }
  const folders = await ctx.call((s) => s.folders(ctx.account.id));
  const names = new Set(folders.map((f) => f.name));
  const lsub = cmd.name === 'LSUB';
  const subscribedOnly = lsub || selection.has('SUBSCRIBED');
  for (const f of folders) {
    if (!patterns.some((p) => matchesPattern(p, f.name))) continue;
    if (subscribedOnly && !f.subscribed) continue;
    if (selection.has('SPECIAL-USE') && !f.specialUse) continue;
    const attrs: string[] = [];
    const children = [...names].some((n) => n.startsWith(f.name + FOLDER_DELIMITER));
    attrs.push(children ? '\\HasChildren' : '\\HasNoChildren');
    if (f.specialUse) attrs.push(f.specialUse);
    if (!lsub && (returns.has('SUBSCRIBED') || selection.has('SUBSCRIBED')) && f.subscribed) attrs.push('\\Subscribed');
    await ctx.untagged([`* ${cmd.name} (${attrs.join(' ')}) "${FOLDER_DELIMITER}" `, ...mailbox(f.name, ctx.utf8)]);
    if (statusWanted) await ctx.untagged(statusLine(ctx, f, statusWanted));
  }
  return ok(`${cmd.name} completed`);
}

async function append(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const name = folderArg(ctx, cmd.args[0]);
  const rest = cmd.args.slice(1);
  let flags: string[] = [];
  let internalDate = Date.now();
  if (rest[0]?.kind === 'list') flags = parseFlags(rest.shift()!);
  if (rest.length === 2) {
    const d = parseDateTime(textOf(rest.shift()!));
    if (d === undefined) return bad('Invalid date-time; use "06-Dec-2026 10:00:00 +0900"');
    internalDate = d;
  }
  const literal = rest[0];
  if (rest.length !== 1 || literal?.kind !== 'string' || !literal.literal) return bad('Usage: APPEND folder [(flags)] [date-time] {size}');
  if (literal.data.length === 0) return bad('An empty message cannot be appended');
  if (literal.data.length > ctx.options.maxMessageBytes) return no(`The message is larger than ${ctx.options.maxMessageBytes} bytes`, 'TOOBIG');
  // Lenient: bare LF line endings become CRLF, as Dovecot stores them.
  const data = literal.data.includes(0x0a) ? Buffer.from(literal.data.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : literal.data;
  const exists = await ctx.call((s) => s.folder(ctx.account.id, name));
  // RFC 9051 §6.3.12: TRYCREATE tells the client it may create the folder and try again.
  if (!exists) return no(`No folder named ${name}`, 'TRYCREATE');
  const r = await ctx.call((s) => s.appendMessage(ctx.account.id, name, { data, flags, internalDate, quotaBytes: ctx.account.quotaBytes }));
  if (ctx.selected?.name === name) await ctx.sync(false);
  return ok('APPEND completed', `APPENDUID ${r.uidValidity} ${r.uid}`);
}

async function quota(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const limit = ctx.account.quotaBytes;
  if (cmd.name === 'GETQUOTAROOT') {
    const name = folderArg(ctx, cmd.args[0]);
    await ctx.untagged(['* QUOTAROOT ', ...str(name, ctx.utf8), limit > 0 ? ' ""' : '']);
  } else if (textOf(cmd.args[0] ?? { kind: 'atom', text: '' }) !== '' || limit === 0) {
    return no('No such quota root; the account\'s quota root is ""', 'NONEXISTENT');
  }
  if (limit > 0) {
    const used = (await ctx.call((s) => s.status(ctx.account.id))).usedBytes;
    // RFC 9208 §5.1: STORAGE in units of 1024 octets.
    await ctx.untagged([`* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} ${Math.floor(limit / 1024)})`]);
  }
  return ok(`${cmd.name} completed`);
}
