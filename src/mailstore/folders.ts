import { HikyakuError } from '../mail/index.js';

/** The RFC 6154 attribute of a folder made for a special use. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

/** One folder of an account (IMAP's "mailbox"). Names are UTF-8, levels separated by FOLDER_DELIMITER. */
export interface Folder {
  /** The store's id of the folder: stable while it exists, never reused by another folder. */
  readonly id: number;
  readonly name: string;
  readonly specialUse: SpecialUse | null;
  readonly subscribed: boolean;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly messages: number;
  /** Messages without the \Seen flag. */
  readonly unseen: number;
  readonly bytes: number;
  /** RFC 7162: the highest modification sequence of anything in the folder (appends, flag changes, expunges). */
  readonly highestModseq: number;
}

/** A message as IMAP sees it: what POP3 sees, and its modification sequence. */
export interface FolderMessage {
  readonly uid: number;
  readonly size: number;
  readonly internalDate: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

export type FlagChange = 'add' | 'remove' | 'replace';

export interface FlagUpdate {
  /** The messages whose flags changed, with their new flags and modseq. */
  readonly updated: readonly FolderMessage[];
  /** RFC 7162 §3.1.3: UIDs left alone because they changed after `unchangedSince`. */
  readonly modified: readonly number[];
}

export interface NewMessage {
  /** The whole message as the client sent it, CRLF line endings. */
  readonly data: Buffer;
  readonly flags: readonly string[];
  readonly internalDate: number;
  /** Refuse with ERR_QUOTA_EXCEEDED past this many bytes over all the account's folders; 0: no limit. */
  readonly quotaBytes: number;
}

/** A message as readMessages gives it. */
export interface StoredMessage {
  /** Header lines then body, as stored. */
  readonly data: Buffer;
  /**
   * The store found when it stored the body that every line ends in CRLF and none starts
   * with "." (sendsAsStored): POP3 sends it as it is without looking. False: not
   * known (a body stored before the store noted it, or one that is not so).
   */
  readonly sendable: boolean;
}

/**
 * The folders of each account and the messages in them, as IMAP needs them. The INBOX is the
 * folder MailStore's POP3 and delivery calls act on: one set of UIDs for both protocols.
 *
 * Contract for every backend:
 * - every change is durable when its promise resolves, and atomic (a COPY or MOVE of many
 *   messages happens whole or not at all);
 * - UIDs increase strictly per folder and are never reused under one UIDVALIDITY; a folder
 *   made again under an old name gets a new UIDVALIDITY;
 * - every change (append, flags, expunge, also by delivery and POP3) raises the folder's
 *   highestModseq and stamps the messages it touched with it; expunged UIDs are
 *   remembered with their modseq (for QRESYNC) for the store's key retention time;
 * - unknown folders throw ERR_FOLDER_UNKNOWN; UIDs that are gone are skipped, not errors.
 */
export interface FolderStore {
  /** Every folder of the account; the INBOX and the special-use folders are made on the first call. */
  folders(accountId: number): Promise<Folder[]>;
  /** One folder, or undefined. */
  folder(accountId: number, name: string): Promise<Folder | undefined>;
  createFolder(accountId: number, name: string, specialUse?: SpecialUse): Promise<void>;
  /** Removes the folder and its messages; refuses INBOX and a folder with subfolders. */
  deleteFolder(accountId: number, name: string): Promise<void>;
  /**
   * Renames a folder and its subfolders, keeping their UIDVALIDITY. Renaming INBOX moves its
   * messages into a new folder and leaves INBOX empty (RFC 9051 §6.3.6).
   */
  renameFolder(accountId: number, from: string, to: string): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void>;
  /** The folder's messages in UID order. */
  messages(accountId: number, folder: string): Promise<{ folder: Folder; messages: FolderMessage[] }>;
  /** Whole messages (header lines then body, as stored) by UID, in one read; a UID that is gone is absent. */
  readMessages(accountId: number, folder: string, uids: readonly number[]): Promise<Map<number, StoredMessage>>;
  storeFlags(accountId: number, folder: string, uids: readonly number[], change: FlagChange, flags: readonly string[], unchangedSince?: number): Promise<FlagUpdate>;
  appendMessage(accountId: number, folder: string, message: NewMessage): Promise<{ uidValidity: number; uid: number }>;
  /** Copies (or moves) messages to another folder of the account; the pairs are (source UID, new UID) in source order. */
  copyMessages(accountId: number, from: string, uids: readonly number[], to: string, move: boolean, quotaBytes: number): Promise<{ uidValidity: number; pairs: [number, number][] }>;
  /** Removes messages for good; returns the UIDs that were there. */
  expungeMessages(accountId: number, folder: string, uids: readonly number[]): Promise<number[]>;
  /** UIDs expunged from the folder with a modseq above `modseq`, as far as the store remembers (RFC 7162 §3.2.5.1). */
  vanishedSince(accountId: number, folder: string, modseq: number): Promise<number[]>;
  /** The highestModseq of each folder id asked for (absent: the folder is gone); one cheap read, for IDLE. */
  highestModseqs(folderIds: readonly number[]): Promise<Map<number, number>>;
}

/** Every FolderStore call that names an account's folder, for stores that hand them to a helper object. */
const FOLDER_CALLS = [
  'folder', 'createFolder', 'deleteFolder', 'renameFolder', 'setSubscribed', 'messages',
  'storeFlags', 'appendMessage', 'copyMessages', 'expungeMessages', 'vanishedSince',
] as const satisfies readonly (keyof FolderStore)[];

/** A backend's FolderStore, which can also make an account's INBOX and special-use folders when they are missing. */
export interface PreparingFolderStore extends FolderStore {
  /** Makes the account's INBOX and special-use folders if it never had them; true if it made any. */
  prepareFolders(accountId: number): Promise<boolean>;
}

/**
 * Makes `target` answer every FolderStore call with `to`'s method (declare
 * `interface X extends FolderStore {}` beside the class so its type says so). A call that
 * finds no folder on an account whose folders were never made (mail only ever came by
 * delivery and POP3) makes them and is tried once more: a client may APPEND to Sent first.
 */
export function delegateFolderCalls(target: object, to: PreparingFolderStore): void {
  for (const k of FOLDER_CALLS) {
    const call = (to[k] as (...a: unknown[]) => Promise<unknown>).bind(to);
    const retried = async (accountId: number, ...rest: unknown[]) => {
      try {
        const r = await call(accountId, ...rest);
        if (r !== undefined || k !== 'folder' || !(await to.prepareFolders(accountId))) return r;
      } catch (err) {
        if (!(err instanceof HikyakuError && err.code === 'ERR_FOLDER_UNKNOWN') || !(await to.prepareFolders(accountId))) throw err;
      }
      return call(accountId, ...rest);
    };
    Object.defineProperty(target, k, { value: retried });
  }
  for (const k of ['folders', 'readMessages', 'highestModseqs'] as const) Object.defineProperty(target, k, { value: (to[k] as (...a: unknown[]) => unknown).bind(to) });
}

/** The folder delivery and POP3 use (RFC 9051 §5.1: its name is case-insensitive). */
export const INBOX = 'INBOX';

/** The hierarchy delimiter of folder names (as Dovecot's fs layout and most hosted services). */
export const FOLDER_DELIMITER = '/';

/** The folders every account gets (RFC 6154), made with its INBOX. */
export const DEFAULT_FOLDERS: readonly { name: string; specialUse: SpecialUse }[] = [
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Archive', specialUse: '\\Archive' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Trash', specialUse: '\\Trash' },
];

const MAX_NAME_BYTES = 512;
const MAX_DEPTH = 16;

/**
 * A folder name as stored: INBOX (and its subfolders' first level) in capitals, as RFC 9051
 * §5.1 makes "INBOX" case-insensitive; throws ERR_FOLDER_NAME with the reason for a bad one.
 */
export function normalizeFolderName(name: string): string {
  const bad = (why: string) => new HikyakuError('ERR_FOLDER_NAME', why);
  if (name === '') throw bad('the name is empty');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw bad(`the name is longer than ${MAX_NAME_BYTES} bytes`);
  // Control characters, and the LIST wildcards (RFC 9051 §5.1: should not be in names).
  if (/[\x00-\x1f\x7f*%]/u.test(name)) throw bad('the name has a control character, * or %');
  if (name.includes('\uFFFD')) throw bad('the name is not valid UTF-8');
  const levels = name.split(FOLDER_DELIMITER);
  if (levels.some((l) => l === '')) throw bad(`the name has an empty level (a leading, trailing or double ${FOLDER_DELIMITER})`);
  if (levels.length > MAX_DEPTH) throw bad(`folders nest at most ${MAX_DEPTH} levels deep`);
  if (levels[0]!.toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels.join(FOLDER_DELIMITER);
}

/** True if `name` is `parent` or below it. */
export function isSameOrBelow(name: string, parent: string): boolean {
  return name === parent || name.startsWith(parent + FOLDER_DELIMITER);
}
