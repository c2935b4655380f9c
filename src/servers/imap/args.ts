/** Reading command arguments the way every IMAP command needs them. */
import { decodeMutf7, parseSequenceSet, ParseError, type SeqRange, type Value } from '../../imap/index.js';
import { normalizeFolderName } from '../../mailstore/index.js';
import type { ImapContext } from './context.js';

/** An argument as text: an atom as written, a string's bytes as UTF-8. */
export function textOf(v: Value): string {
  if (v.kind === 'atom') return v.text;
  if (v.kind === 'string') return v.data.toString('utf8');
  throw new ParseError('A string was expected, not a list');
}

/** A mailbox name argument as stored: UTF-8, INBOX in capitals. */
export function folderArg(ctx: ImapContext, v: Value | undefined): string {
  if (!v) throw new ParseError('A folder name is missing');
  const raw = textOf(v);
  // IMAP4rev1 clients send modified UTF-7; with UTF-8 enabled, names are UTF-8 as they are.
  const name = ctx.utf8 ? raw : decodeMutf7(raw);
  if (name === undefined) throw new ParseError('The folder name is not valid modified UTF-7');
  return normalizeFolderName(name);
}

const SYSTEM_FLAGS = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]));
const MAX_FLAGS = 64;

/** A flag list as stored: system flags in their canonical case, keywords as atoms (RFC 9051 §2.3.2). */
export function parseFlags(v: Value): string[] {
  const items = v.kind === 'list' ? v.items : [v];
  if (items.length > MAX_FLAGS) throw new ParseError(`At most ${MAX_FLAGS} flags`);
  return items.map((i) => {
    if (i.kind !== 'atom') throw new ParseError('Flags are atoms');
    if (i.text.startsWith('\\')) {
      const f = SYSTEM_FLAGS.get(i.text.toLowerCase());
      if (!f) throw new ParseError(`${i.text} is not a flag that can be set`);
      return f;
    }
    if (!/^[\x21\x23-\x27\x2b-\x5a\x5e-\x7a\x7c\x7e]{1,100}$/.test(i.text)) throw new ParseError(`Invalid keyword ${i.text.slice(0, 40)}`);
    return i.text;
  });
}

/** A sequence set argument; BAD when it is not one. */
export function setArg(v: Value | undefined): SeqRange[] {
  const set = v?.kind === 'atom' ? parseSequenceSet(v.text) : undefined;
  if (!set) throw new ParseError('Invalid sequence set');
  return set;
}

