/**
 * Commands of the selected state (RFC 9051 §6.4): FETCH (with BINARY, RFC 3516), STORE
 * (with UNCHANGEDSINCE, RFC 7162), SEARCH (ESEARCH, RFC 4731), COPY and MOVE (UIDPLUS,
 * RFC 4315; MOVE, RFC 6851), EXPUNGE, CLOSE and UNSELECT (RFC 3691).
 */
import {
  formatOrderedSet,
  formatSequenceSet,
  formatDateTime,
  parseFetch,
  parseSearch,
  str,
  type Chunk,
  type Command,
  type FetchItem,
  type SeqRange,
} from '../../imap/index.js';
import type { FolderMessage } from '../../mailstore/index.js';
import type { MimePart } from '../../message/index.js';
import type { ImapContext } from './context.js';
import { bad, no, ok, type Reply } from './replies.js';
import { bodyStructure, decodedBody, envelope, resolvePart, sectionBytes } from './message-view.js';
import { matches, needsContent } from './search-eval.js';
import { folderArg, parseFlags, setArg } from './args.js';

export async function selectedCommand(ctx: ImapContext, cmd: Command): Promise<Reply> {
  const view = ctx.selected!;
  switch (cmd.name) {
    case 'FETCH':
    case 'UID FETCH':
      return fetch(ctx, cmd, cmd.name === 'UID FETCH');
    case 'STORE':
    case 'UID STORE':
      return store(ctx, cmd, cmd.name === 'UID STORE');
    case 'SEARCH':
    case 'UID SEARCH':
      return search(ctx, cmd, cmd.name === 'UID SEARCH');
    case 'COPY':
    case 'UID COPY':
    case 'MOVE':
    case 'UID MOVE':
      return copy(ctx, cmd, cmd.name.startsWith('UID'), cmd.name.endsWith('MOVE'));
    case 'EXPUNGE':
    case 'UID EXPUNGE': {
      if (view.readOnly) return no('The folder is open read-only (EXAMINE)', 'READ-ONLY');
      const set = cmd.name === 'UID EXPUNGE' ? setArg(cmd.args[0]) : undefined;
      await expungeDeleted(ctx, set, true);
      await ctx.sync(true);
      return ok(`${cmd.name} completed`);
    }
    case 'CLOSE':
      // RFC 9051 §6.4.1: CLOSE expunges silently (no EXPUNGE responses), unless read-only.
      if (!view.readOnly) await expungeDeleted(ctx, undefined, false);
      ctx.selected = undefined;
      return ok('CLOSE completed');
    case 'UNSELECT':
      ctx.selected = undefined;
      return ok('UNSELECT completed');
  }
  return bad(`Unknown command ${cmd.name}`);
}

async function expungeDeleted(ctx: ImapContext, set: SeqRange[] | undefined, tell: boolean): Promise<void> {
  const view = ctx.selected!;
  const candidates = set ? view.pick(set, true) : view.messages;
  const doomed = candidates.filter((m) => m.flags.includes('\\Deleted')).map((m) => m.uid);
  if (doomed.length === 0) return;
  const removed = await ctx.call((s) => s.expungeMessages(ctx.account.id, view.name, doomed));
  const lines = view.remove(removed, ctx.qresync);
  if (tell) for (const l of lines) await ctx.untagged(l);
}

const BATCH = 64;
const FLUSH_BYTES = 256 * 1024;
const CONTENT_ITEMS = new Set(['ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'section', 'BINARY.SIZE']);

async function fetch(ctx: ImapContext, cmd: Command, uid: boolean): Promise<Reply> {
  const view = ctx.selected!;
  const set = setArg(cmd.args[0]);
  const req = parseFetch(cmd.args.slice(1));
  if (req.changedSince !== undefined) ctx.enableCondstore();
  if (req.vanished && (!uid || !ctx.qresync)) return bad('VANISHED needs UID FETCH and QRESYNC enabled');
  const items: FetchItem[] = uid && !req.items.some((i) => i.kind === 'UID') ? [{ kind: 'UID' }, ...req.items] : [...req.items];
  if (ctx.condstore && !items.some((i) => i.kind === 'MODSEQ') && items.some((i) => i.kind === 'FLAGS')) items.push({ kind: 'MODSEQ' });
  let picked = view.pick(set, uid);
  if (req.changedSince !== undefined) picked = picked.filter((m) => m.modseq > req.changedSince!);
  if (req.vanished) {
    const largest = view.messages.at(-1)?.uid ?? 0;
    const gone = (await ctx.call((s) => s.vanishedSince(ctx.account.id, view.name, req.changedSince!))).filter((u) => set.some(([a, b]) => u >= Math.min(a || largest, b || largest) && u <= Math.max(a || largest, b || largest)));
    if (gone.length) await ctx.untagged([`* VANISHED (EARLIER) ${formatSequenceSet(gone)}`]);
  }
  // RFC 9051 §6.4.5: fetching a body section without PEEK sets \Seen (not in a read-only folder).
  const marksSeen = !view.readOnly && items.some((i) => i.kind === 'section' && !i.peek);
  if (marksSeen) {
    const unseen = picked.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
    if (unseen.length) {
      const r = await ctx.call((s) => s.storeFlags(ctx.account.id, view.name, unseen, 'add', ['\\Seen']));
      for (const m of r.updated) view.update(m);
      picked = picked.map((m) => (unseen.includes(m.uid) ? (view.messages[view.seqOf(m.uid) - 1] ?? m) : m));
      if (!items.some((i) => i.kind === 'FLAGS')) items.push({ kind: 'FLAGS' });
    }
  }
  const needsData = items.some((i) => CONTENT_ITEMS.has(i.kind));
  let missing = false;
  // Messages are read BATCH at a time (one store call), and answers go out in writes of
  // about FLUSH_BYTES, not a syscall per message.
  let out: Chunk[] = [];
  let pending = 0;
  for (let b = 0; b < picked.length; b += BATCH) {
    const batch = picked.slice(b, b + BATCH);
    const bodies = needsData ? await ctx.call((s) => s.readMessages(ctx.account.id, view.name, batch.map((m) => m.uid))) : undefined;
    for (const m of batch) {
      const data = bodies?.get(m.uid)?.data;
      // Expunged by another session meanwhile: its data cannot be given (RFC 5530 EXPUNGEISSUED).
      if (bodies && !data) {
        missing = true;
        continue;
      }
      // Parsed only when an item needs the structure (BODY[] alone does not).
      const tree = () => ctx.cache.tree(view.folder.id, view.folder.uidValidity, m.uid, data!);
      out.push(`* ${view.seqOf(m.uid)} FETCH (`);
      for (const [i, item] of items.entries()) {
        const chunks = fetchItem(ctx, m, item, data, tree);
        if (chunks === 'unknown-cte') return no('A part has a Content-Transfer-Encoding we cannot decode', 'UNKNOWN-CTE');
        if (i) out.push(' ');
        out.push(...chunks);
      }
      out.push(')\r\n');
      pending += data?.length ?? 100;
      if (pending >= FLUSH_BYTES) {
        await ctx.write(out);
        out = [];
        pending = 0;
      }
    }
  }
  if (out.length) await ctx.write(out);
  if (uid) await ctx.sync(true);
  else await ctx.sync(false);
  return missing ? no('Some messages were deleted by another session meanwhile', 'EXPUNGEISSUED') : ok(`${cmd.name} completed`);
}

function fetchItem(ctx: ImapContext, m: FolderMessage, item: FetchItem, data: Buffer | undefined, tree: () => MimePart): Chunk[] | 'unknown-cte' {
  switch (item.kind) {
    case 'FLAGS':
      return [`FLAGS (${m.flags.join(' ')})`];
    case 'UID':
      return [`UID ${m.uid}`];
    case 'INTERNALDATE':
      return [`INTERNALDATE "${formatDateTime(m.internalDate)}"`];
    case 'RFC822.SIZE':
      return [`RFC822.SIZE ${m.size}`];
    case 'MODSEQ':
      return [`MODSEQ (${m.modseq})`];
    case 'ENVELOPE':
      return ['ENVELOPE ', ...envelope(tree(), ctx.utf8)];
    case 'BODYSTRUCTURE':
    case 'BODY':
      return [`${item.kind} `, ...bodyStructure(tree(), item.kind === 'BODYSTRUCTURE', ctx.utf8)];
    case 'BINARY.SIZE': {
      const node = resolvePart(tree(), item.part);
      const decoded = node && decodedBody(data!, node);
      if (node && !decoded) return 'unknown-cte';
      return [`${item.label} ${decoded?.length ?? 0}`];
    }
    case 'section': {
      let bytes: Buffer | undefined;
      if (item.section.part.length === 0 && !item.section.text) bytes = data;
      else if (item.binary) {
        const node = resolvePart(tree(), item.section.part);
        bytes = node && decodedBody(data!, node);
        if (node && !bytes) return 'unknown-cte';
      } else bytes = sectionBytes(data!, tree(), item.section);
      // A section that does not exist is the empty string (RFC 9051 §6.4.5 leaves it to the server; Dovecot does the same).
      if (!bytes) bytes = Buffer.alloc(0);
      if (item.partial) bytes = bytes.subarray(Math.min(item.partial.start, bytes.length), Math.min(item.partial.start + item.partial.length, bytes.length));
      // RFC 3516: BINARY data with NUL goes as a literal8.
      if (item.binary && bytes.includes(0)) return [`${item.label} ~{${bytes.length}}\r\n`, bytes];
      return [`${item.label} `, ...(bytes.length ? [`{${bytes.length}}\r\n`, bytes] : ['""'])];
    }
  }
}

async function store(ctx: ImapContext, cmd: Command, uid: boolean): Promise<Reply> {
  const view = ctx.selected!;
  if (view.readOnly) return no('The folder is open read-only (EXAMINE)', 'READ-ONLY');
  const set = setArg(cmd.args[0]);
  const args = cmd.args.slice(1);
  let unchangedSince: number | undefined;
  const first = args[0];
  if (first?.kind === 'list') {
    const [name, value] = first.items.map((i) => (i.kind === 'atom' ? i.text : ''));
    if (name?.toUpperCase() !== 'UNCHANGEDSINCE' || !/^\d{1,19}$/.test(value ?? '') || first.items.length !== 2) return bad('Usage: STORE set (UNCHANGEDSINCE modseq) ...');
    unchangedSince = Number(value);
    ctx.enableCondstore();
    args.shift();
  }
  const action = args[0]?.kind === 'atom' ? args[0].text.toUpperCase() : '';
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(action);
  if (!m || args.length < 2) return bad('Usage: STORE set [+|-]FLAGS[.SILENT] (flags)');
  const flags = parseFlags(args.length === 2 ? args[1]! : { kind: 'list', items: args.slice(1) });
  const picked = view.pick(set, uid);
  const change = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
  const r = await ctx.call((s) => s.storeFlags(ctx.account.id, view.name, picked.map((p) => p.uid), change, flags, unchangedSince));
  for (const u of r.updated) view.update(u);
  const silent = m[2] !== undefined;
  const changed = new Map(r.updated.map((u) => [u.uid, u]));
  for (const p of picked) {
    const now = changed.get(p.uid);
    // RFC 7162 §3.1.3: with UNCHANGEDSINCE, changed messages are reported even with .SILENT (their modseq moved).
    if (r.modified.includes(p.uid) || (silent && !(now && unchangedSince !== undefined))) continue;
    const cur = now ?? view.messages[view.seqOf(p.uid) - 1] ?? p;
    await ctx.untagged([`* ${view.seqOf(p.uid)} FETCH (${uid ? `UID ${cur.uid} ` : ''}FLAGS (${cur.flags.join(' ')})${ctx.condstore ? ` MODSEQ (${cur.modseq})` : ''})`]);
  }
  await ctx.sync(uid);
  if (r.modified.length) {
    const numbers = uid ? r.modified : r.modified.map((u) => view.seqOf(u)).filter((n) => n > 0);
    return ok('Some messages changed meanwhile and were left alone', `MODIFIED ${formatSequenceSet(numbers)}`);
  }
  return ok(`${cmd.name} completed`);
}

async function search(ctx: ImapContext, cmd: Command, uid: boolean): Promise<Reply> {
  const view = ctx.selected!;
  const req = parseSearch(cmd.args);
  if (req.returns?.includes('SAVE')) return no('SEARCHRES (RETURN SAVE) is not supported', 'CANNOT');
  const content = needsContent(req.key);
  const found: FolderMessage[] = [];
  let modseq = 0;
  const largestUid = view.messages.at(-1)?.uid ?? 0;
  for (let b = 0; b < view.messages.length; b += BATCH) {
    const batch = view.messages.slice(b, b + BATCH);
    const bodies = content ? await ctx.call((s) => s.readMessages(ctx.account.id, view.name, batch.map((m) => m.uid))) : undefined;
    batch.forEach((m, i) => {
      const data = bodies?.get(m.uid)?.data;
      if (bodies && !data) return;
      const tree = data ? ctx.cache.tree(view.folder.id, view.folder.uidValidity, m.uid, data) : undefined;
      if (matches(req.key, { message: m, seq: b + i + 1, count: view.messages.length, largestUid, data, tree })) {
        found.push(m);
        modseq = Math.max(modseq, m.modseq);
      }
    });
  }
  const usesModseq = JSON.stringify(req.key).includes('"modseq"');
  if (usesModseq) ctx.enableCondstore();
  const numbers = found.map((m) => (uid ? m.uid : view.seqOf(m.uid)));
  // RFC 9051 §7.3.4: an IMAP4rev2 client always gets ESEARCH.
  if (req.returns === undefined && !ctx.rev2) {
    await ctx.untagged([`* SEARCH${numbers.map((n) => ` ${n}`).join('')}${usesModseq && numbers.length ? ` (MODSEQ ${modseq})` : ''}`]);
  } else {
    const want = req.returns?.length ? req.returns : ['ALL'];
    const parts: string[] = [];
    if (numbers.length && want.includes('MIN')) parts.push(`MIN ${numbers[0]}`);
    if (numbers.length && want.includes('MAX')) parts.push(`MAX ${numbers.at(-1)}`);
    if (numbers.length && want.includes('ALL')) parts.push(`ALL ${formatSequenceSet(numbers)}`);
    if (want.includes('COUNT')) parts.push(`COUNT ${numbers.length}`);
    if (usesModseq && numbers.length) parts.push(`MODSEQ ${modseq}`);
    await ctx.untagged(['* ESEARCH (TAG ', ...str(cmd.tag), ')', uid ? ' UID' : '', ...parts.map((p) => ` ${p}`)]);
  }
  await ctx.sync(uid);
  return ok(`${cmd.name} completed`);
}

async function copy(ctx: ImapContext, cmd: Command, uid: boolean, move: boolean): Promise<Reply> {
  const view = ctx.selected!;
  if (move && view.readOnly) return no('The folder is open read-only (EXAMINE)', 'READ-ONLY');
  const set = setArg(cmd.args[0]);
  if (cmd.args.length !== 2) return bad(`Usage: ${cmd.name} set folder`);
  const target = folderArg(ctx, cmd.args[1]);
  const picked = view.pick(set, uid);
  if (picked.length === 0) return ok(`${cmd.name} completed (nothing to ${move ? 'move' : 'copy'})`);
  const exists = await ctx.call((s) => s.folder(ctx.account.id, target));
  if (!exists) return no(`No folder named ${target}`, 'TRYCREATE');
  const r = await ctx.call((s) => s.copyMessages(ctx.account.id, view.name, picked.map((p) => p.uid), target, move, ctx.account.quotaBytes));
  const code = r.pairs.length ? `COPYUID ${r.uidValidity} ${formatOrderedSet(r.pairs.map((p) => p[0]))} ${formatOrderedSet(r.pairs.map((p) => p[1]))}` : undefined;
  if (move) {
    // RFC 6851 §4.3: COPYUID comes in an untagged OK before the expunges.
    if (code) await ctx.untagged([`* OK [${code}] Moved`]);
    for (const l of view.remove(r.pairs.map((p) => p[0]), ctx.qresync)) await ctx.untagged(l);
    await ctx.sync(true);
    return ok(`${cmd.name} completed`);
  }
  await ctx.sync(uid);
  return ok(`${cmd.name} completed`, code);
}
