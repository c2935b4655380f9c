import type { Readable } from 'node:stream';
import type { FolderStore } from './folders.js';

/** One message in a mailbox. POP3's UIDL and IMAP's UID are `uid`. */
export interface MailboxEntry {
  readonly uid: number;
  readonly size: number;
  readonly internalDate: number;
  readonly flags: readonly string[];
}

export interface MailboxStatus {
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly messages: number;
  readonly bytes: number;
  /** Bytes in all the account's folders: what its quota counts. */
  readonly usedBytes: number;
}

/** What a POP3 session lists (RFC 1939 §4): the INBOX's UIDVALIDITY and its messages' UIDs and sizes, in UID order. */
export interface Maildrop {
  readonly uidValidity: number;
  readonly uids: readonly number[];
  readonly sizes: readonly number[];
}

export interface AppendInput {
  /** The account the mailbox belongs to; the message goes to its INBOX. */
  readonly accountId: number;
  /**
   * Idempotency key: a second append with the same key to the same mailbox does nothing
   * and returns the first UID. Delivery uses the spool message id.
   */
  readonly messageKey: string;
  /** Per-recipient header lines (Return-Path, Delivered-To), CRLF-terminated, put before the body. */
  readonly header: Buffer;
  /** The body as accepted; may be called again on retry. */
  readonly openBody: () => Readable;
  readonly bodySize: number;
  readonly internalDate: number;
  /** Refuse with ERR_QUOTA_EXCEEDED if the mailbox would exceed this many bytes; 0: no limit. */
  readonly quotaBytes: number;
}

/**
 * The mailbox store: the INBOX calls delivery and POP3 use, and the folders IMAP uses.
 *
 * Contract for every backend:
 * - `append` is durable when it resolves, and idempotent per (accountId, messageKey).
 * - UIDs increase strictly per mailbox and are never reused under one UIDVALIDITY.
 * - Failures are thrown; a temporary one (HikyakuError.temporary or any unknown error)
 *   means the caller may retry the same append.
 */
export interface MailStore extends FolderStore {
  append(input: AppendInput): Promise<{ uid: number; duplicate: boolean }>;
  status(accountId: number): Promise<MailboxStatus>;
  list(accountId: number): Promise<MailboxEntry[]>;
  /** The INBOX as POP3 lists it, in one read: no more than it needs (a mailbox may hold 100,000 messages). */
  maildrop(accountId: number): Promise<Maildrop>;
  /** The full message (header lines then body) as stored. */
  read(accountId: number, uid: number): Promise<Readable>;
  /**
   * Removes messages for good. Durable when it resolves; UIDs already gone are ignored, so
   * a repeated expunge is harmless. A body shared with other mailboxes stays for them.
   */
  expunge(accountId: number, uids: readonly number[]): Promise<number>;
  /** Resolves once the store has answered a trivial read (readiness checks); rejects when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
