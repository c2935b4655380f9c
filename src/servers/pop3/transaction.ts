import { parseCommand, parseLineCount, parseMessageNumber, type Pop3Command } from '../../pop3/index.js';
import type { Maildrop } from '../../mailstore/index.js';
import { retrieveMany, retrieveTop, type ListedMessage, type Retrieval } from './retrieval.js';

/** A message of the session's listing, and whether DELE marked it. */
interface Message extends ListedMessage {
  deleted: boolean;
}

/** The maildrop as a session sees it from login to QUIT (RFC 1939 §5): numbered messages and DELE marks. */
export interface Listing {
  readonly uidValidity: number;
  readonly messages: readonly Message[];
}

/** What the TRANSACTION state needs of its session. */
export interface TransactionSession {
  /** A status line. */
  send(line: string): void;
  /** A multi-line answer's text, in one write (nothing once the connection is closed). */
  write(text: string): void;
  /** Commands received and not yet handled: pipelined RETRs are taken from here. */
  readonly queue: Buffer[];
  retrieval(): Retrieval;
}

// Pipelined RETRs answered from one store read.
const RETR_BATCH = 64;

export function listingOf({ uidValidity, uids, sizes }: Maildrop): Listing {
  return { uidValidity, messages: uids.map((uid, i) => ({ uid, size: sizes[i]!, n: i + 1, deleted: false })) };
}

/** STAT, LIST, UIDL, RETR, TOP, DELE, RSET and the refusal of anything else (RFC 1939 §5). */
export async function transaction(s: TransactionSession, listing: Listing, cmd: Pop3Command): Promise<void> {
  const list = listing.messages;
  const live = () => list.filter((m) => !m.deleted);
  const pick = (arg: string | undefined): Message | undefined => {
    const n = parseMessageNumber(arg, list.length);
    if (n === undefined) {
      s.send(arg === undefined ? '-ERR Message number required' : `-ERR No such message: ${arg}`);
      return undefined;
    }
    const m = list[n - 1]!;
    if (m.deleted) {
      s.send(`-ERR Message ${n} is already deleted`);
      return undefined;
    }
    return m;
  };
  switch (cmd.keyword) {
    case 'STAT': {
      const counted = live();
      return s.send(`+OK ${counted.length} ${counted.reduce((n, m) => n + m.size, 0)}`);
    }
    case 'LIST':
    case 'UIDL': {
      const value = (m: Message) => (cmd.keyword === 'LIST' ? String(m.size) : `${listing.uidValidity}.${m.uid}`);
      if (cmd.args.length > 0) {
        const m = pick(cmd.args[0]);
        return m && s.send(`+OK ${m.n} ${value(m)}`);
      }
      s.send(`+OK ${live().length} messages`);
      // One write for the whole listing (a mailbox may hold 100,000 messages).
      const lines: string[] = [];
      list.forEach((m, i) => !m.deleted && lines.push(`${i + 1} ${value(m)}\r\n`));
      lines.push('.\r\n');
      s.write(lines.join(''));
      return;
    }
    case 'RETR': {
      const m = pick(cmd.args[0]);
      if (!m) return;
      // RETRs pipelined right behind this one are answered from one read of the store.
      const batch = [m];
      while (batch.length < RETR_BATCH && s.queue.length > 0) {
        const next = parseCommand(s.queue[0]!);
        if (!next.ok || next.command.keyword !== 'RETR' || next.command.args.length !== 1) break;
        const n = parseMessageNumber(next.command.args[0], list.length);
        if (n === undefined || list[n - 1]!.deleted) break;
        s.queue.shift();
        batch.push(list[n - 1]!);
      }
      return retrieveMany(s.retrieval(), batch);
    }
    case 'TOP': {
      const m = pick(cmd.args[0]);
      if (!m) return;
      const lines = parseLineCount(cmd.args[1]);
      if (lines === undefined) return s.send('-ERR Usage: TOP message lines');
      return retrieveTop(s.retrieval(), m, lines);
    }
    case 'DELE': {
      const m = pick(cmd.args[0]);
      if (!m) return;
      m.deleted = true;
      return s.send(`+OK Message ${m.n} deleted`);
    }
    case 'RSET':
      for (const m of list) m.deleted = false;
      return s.send(`+OK ${list.length} messages`);
    default:
      return s.send(`-ERR ${cmd.keyword} is not valid after logging in`);
  }
}
