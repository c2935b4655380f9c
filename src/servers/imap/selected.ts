/**
 * The selected mailbox as one session sees it (RFC 9051 §5.2, §7.4): message sequence
 * numbers, flags and modseqs as last told to the client, and the untagged responses that
 * bring the client up to date with the store.
 */
import type { Folder, FolderMessage } from '../../mailstore/index.js';
import { formatSequenceSet, inSequenceSet, type SeqRange, type Chunk } from '../../imap/index.js';

export interface SyncOptions {
  /** EXPUNGE may be sent now (not while answering FETCH, STORE or SEARCH: RFC 9051 §7.5.1). */
  readonly expunges: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 §3.2.10). */
  readonly qresync: boolean;
  /** CONDSTORE enabled: MODSEQ in unsolicited FETCH responses (RFC 7162 §3.1.2). */
  readonly condstore: boolean;
}

export class SelectedMailbox {
  /** Messages in sequence order (UID order); sequence number = index + 1. */
  messages: FolderMessage[];
  highestModseq: number;
  uidNext: number;
  /** Messages gone from the store but still in the view (expunges not yet allowed to be told). */
  ghosts = false;

  constructor(
    readonly folder: Folder,
    messages: FolderMessage[],
    readonly readOnly: boolean,
  ) {
    this.messages = messages;
    this.highestModseq = folder.highestModseq;
    this.uidNext = folder.uidNext;
  }

  get name(): string {
    return this.folder.name;
  }

  /** The sequence number of a UID, or 0. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.messages[mid]!;
      if (m.uid === uid) return mid + 1;
      if (m.uid < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Messages named by a sequence set, of sequence numbers or (`uid`) of UIDs, in sequence order. */
  pick(set: readonly SeqRange[], uid: boolean): FolderMessage[] {
    if (this.messages.length === 0) return [];
    if (!uid) return this.messages.filter((_, i) => inSequenceSet(set, i + 1, this.messages.length));
    const largest = this.messages[this.messages.length - 1]!.uid;
    return this.messages.filter((m) => inSequenceSet(set, m.uid, largest));
  }

  /** Records a message's new flags (after our own STORE), so the next sync does not report them again. */
  update(changed: FolderMessage): void {
    const seq = this.seqOf(changed.uid);
    if (seq) this.messages[seq - 1] = changed;
  }

  /** Removes expunged UIDs (after our own EXPUNGE); returns the untagged responses for them. */
  remove(uids: readonly number[], qresync: boolean): Chunk[][] {
    const gone = new Set(uids);
    const out: Chunk[][] = [];
    if (qresync) {
      const known = uids.filter((u) => this.seqOf(u) > 0);
      if (known.length) out.push([`* VANISHED ${formatSequenceSet(known)}`]);
      this.messages = this.messages.filter((m) => !gone.has(m.uid));
      return out;
    }
    // Highest sequence number first: each EXPUNGE leaves the numbers below it as they were.
    for (let i = this.messages.length - 1; i >= 0; i--) if (gone.has(this.messages[i]!.uid)) out.push([`* ${i + 1} EXPUNGE`]);
    this.messages = this.messages.filter((m) => !gone.has(m.uid));
    return out;
  }

  /** Compares with a fresh listing of the folder; updates the view and returns what to tell the client. */
  apply(folder: Folder, fresh: readonly FolderMessage[], options: SyncOptions): Chunk[][] {
    const out: Chunk[][] = [];
    const now = new Map(fresh.map((m) => [m.uid, m]));
    const gone = this.messages.filter((m) => !now.has(m.uid)).map((m) => m.uid);
    if (options.expunges) out.push(...this.remove(gone, options.qresync));
    this.ghosts = !options.expunges && gone.length > 0;
    this.messages.forEach((m, i) => {
      const f = now.get(m.uid);
      if (!f || f.modseq === m.modseq) return;
      this.messages[i] = f;
      if (f.flags.join(' ') !== m.flags.join(' ') || options.condstore) {
        out.push([`* ${i + 1} FETCH (UID ${f.uid} FLAGS (${f.flags.join(' ')})${options.condstore ? ` MODSEQ (${f.modseq})` : ''})`]);
      }
    });
    const last = this.messages[this.messages.length - 1]?.uid ?? 0;
    const added = fresh.filter((m) => m.uid > last);
    if (added.length) {
      this.messages.push(...added);
      out.push([`* ${this.messages.length} EXISTS`]);
    }
    this.highestModseq = Math.max(this.highestModseq, folder.highestModseq);
    this.uidNext = folder.uidNext;
    return out;
  }
}
