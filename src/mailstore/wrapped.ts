import type { Readable } from 'node:stream';
import type { AppendInput, MailboxEntry, MailboxStatus, Maildrop, MailStore } from './types.js';
import type { FlagChange, FlagUpdate, Folder, FolderMessage, NewMessage, SpecialUse, StoredMessage } from './folders.js';

/** Which calls a fault applies to: delivery's appends, or the readers' calls (POP3, IMAP, the portal), writes included. */
export type FaultTarget = 'append' | 'reads';

/** A MailStore that passes every call through `through` to another (opening it late, injecting faults). */
export abstract class WrappedMailStore implements MailStore {
  protected abstract through<T>(target: FaultTarget, call: (store: MailStore) => Promise<T>): Promise<T>;
  abstract close(): Promise<void>;

  append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }> {
    return this.through('append', (s) => s.append(input));
  }
  status(accountId: number): Promise<MailboxStatus> {
    return this.through('reads', (s) => s.status(accountId));
  }
  list(accountId: number): Promise<MailboxEntry[]> {
    return this.through('reads', (s) => s.list(accountId));
  }
  maildrop(accountId: number): Promise<Maildrop> {
    return this.through('reads', (s) => s.maildrop(accountId));
  }
  read(accountId: number, uid: number): Promise<Readable> {
    return this.through('reads', (s) => s.read(accountId, uid));
  }
  expunge(accountId: number, uids: readonly number[]): Promise<number> {
    return this.through('reads', (s) => s.expunge(accountId, uids));
  }
  ping(): Promise<void> {
    return this.through('reads', (s) => s.ping());
  }
  folders(accountId: number): Promise<Folder[]> {
    return this.through('reads', (s) => s.folders(accountId));
  }
  folder(accountId: number, name: string): Promise<Folder | undefined> {
    return this.through('reads', (s) => s.folder(accountId, name));
  }
  createFolder(accountId: number, name: string, specialUse?: SpecialUse): Promise<void> {
    return this.through('reads', (s) => s.createFolder(accountId, name, specialUse));
  }
  deleteFolder(accountId: number, name: string): Promise<void> {
    return this.through('reads', (s) => s.deleteFolder(accountId, name));
  }
  renameFolder(accountId: number, from: string, to: string): Promise<void> {
    return this.through('reads', (s) => s.renameFolder(accountId, from, to));
  }
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    return this.through('reads', (s) => s.setSubscribed(accountId, name, subscribed));
  }
  messages(accountId: number, folder: string): Promise<{ folder: Folder; messages: FolderMessage[] }> {
    return this.through('reads', (s) => s.messages(accountId, folder));
  }
  readMessages(accountId: number, folder: string, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
    return this.through('reads', (s) => s.readMessages(accountId, folder, uids));
  }
  storeFlags(accountId: number, folder: string, uids: readonly number[], change: FlagChange, flags: readonly string[], unchangedSince?: number): Promise<FlagUpdate> {
    return this.through('reads', (s) => s.storeFlags(accountId, folder, uids, change, flags, unchangedSince));
  }
  appendMessage(accountId: number, folder: string, message: NewMessage): Promise<{ uidValidity: number; uid: number }> {
    return this.through('reads', (s) => s.appendMessage(accountId, folder, message));
  }
  copyMessages(accountId: number, from: string, uids: readonly number[], to: string, move: boolean, quotaBytes: number): Promise<{ uidValidity: number; pairs: [number, number][] }> {
    return this.through('reads', (s) => s.copyMessages(accountId, from, uids, to, move, quotaBytes));
  }
  expungeMessages(accountId: number, folder: string, uids: readonly number[]): Promise<number[]> {
    return this.through('reads', (s) => s.expungeMessages(accountId, folder, uids));
  }
  vanishedSince(accountId: number, folder: string, modseq: number): Promise<number[]> {
    return this.through('reads', (s) => s.vanishedSince(accountId, folder, modseq));
  }
  highestModseqs(folderIds: readonly number[]): Promise<Map<number, number>> {
    return this.through('reads', (s) => s.highestModseqs(folderIds));
  }
}
