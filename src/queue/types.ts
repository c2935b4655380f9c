import type { Readable } from 'node:stream';

/** The envelope of an accepted message. */
export interface Envelope {
  /** Reverse-path; '' for the null sender (bounces). */
  readonly mailFrom: string;
  /** Normalized recipient addresses, one queue entry each. */
  readonly recipients: readonly string[];
  /** RFC 6531: the client asked for SMTPUTF8. */
  readonly smtputf8: boolean;
}

export type EntryState = 'queued' | 'active' | 'deferred' | 'done' | 'bounced';

/** One queue entry: one recipient of one message, as leased by a delivery worker. */
export interface QueueEntry {
  readonly id: number;
  readonly messageId: string;
  readonly mailFrom: string;
  readonly rcpt: string;
  readonly size: number;
  readonly receivedAt: number;
  /** Attempts including the current one. */
  readonly attempts: number;
}

/** A message being written to the spool; nothing is visible until `commit`. */
export interface SpoolWriter {
  readonly messageId: string;
  write(chunk: Buffer): Promise<void>;
  /**
   * Makes the message and one queue entry per recipient durable, then resolves.
   * When it resolves, a crash at any later point does not lose the message.
   */
  commit(envelope: Envelope): Promise<void>;
  /** Discards what was written. Safe to call after a failed write or commit. */
  abort(): Promise<void>;
}

export interface QueueStats {
  readonly byState: Readonly<Record<EntryState, number>>;
  /** Age in seconds of the oldest entry not yet done; 0 when the queue is empty. */
  readonly oldestSeconds: number;
}

/**
 * The spool: accepted messages and their queue entries, separate from the mailbox store.
 *
 * Contract for every backend:
 * - Durability: `SpoolWriter.commit` resolves only after body and entries are on stable
 *   storage (fsync); only then may SMTP answer 250.
 * - Leases: an entry is leased to one owner until `leaseMs` passes; an expired lease may
 *   be taken by another owner, so a crashed worker's entries are delivered again.
 * - complete/defer/bounce by an owner whose lease was lost are ignored (return false).
 * - A message's body is kept until every entry of it is done.
 */
export interface Spool {
  begin(): Promise<SpoolWriter>;
  /** Leases up to `limit` entries that are due, oldest first. */
  lease(owner: string, limit: number, leaseMs: number): Promise<QueueEntry[]>;
  /** The body as written at accept time. */
  openBody(messageId: string): Readable;
  complete(entry: QueueEntry, owner: string): Promise<boolean>;
  defer(entry: QueueEntry, owner: string, error: string, retryAt: number): Promise<boolean>;
  /** Permanent failure: kept with its reason until a DSN can be sent to the sender. */
  bounce(entry: QueueEntry, owner: string, error: string): Promise<boolean>;
  /** Hands back every lease of `owner` (graceful shutdown). */
  release(owner: string): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Called after every commit in this process, so idle workers wake at once. */
  onCommit(listener: () => void): void;
  close(): Promise<void>;
}
