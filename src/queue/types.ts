import type { Readable } from 'node:stream';

/** The envelope of an accepted message. */
export interface Envelope {
  /** Reverse-path; '' for the null sender (bounces). */
  readonly mailFrom: string;
  /** Normalized recipient addresses, one queue entry each. */
  readonly recipients: readonly string[];
  /** RFC 6531: the client asked for SMTPUTF8. */
  readonly smtputf8: boolean;
  /** The recipients (among `recipients`) relayed to other servers; the rest are delivered here. */
  readonly remote?: readonly string[];
}

/** Where an entry goes: into a mailbox here, or to another server (relay). */
export type Route = 'local' | 'remote';

/**
 * Entries that are finished (delivered, relayed or bounced with a DSN) leave the queue.
 * 'held': put aside by an operator; never due until released.
 */
export type EntryState = 'queued' | 'active' | 'deferred' | 'held';

/** One queue entry: one recipient of one message, as leased by a delivery worker. */
export interface QueueEntry {
  readonly id: number;
  readonly messageId: string;
  /** The reverse-path for this entry: the message's, or a rewritten one (SRS) for a forward. */
  readonly mailFrom: string;
  readonly rcpt: string;
  readonly route: Route;
  readonly size: number;
  readonly smtputf8: boolean;
  readonly receivedAt: number;
  /** Attempts including the current one. */
  readonly attempts: number;
  /** A delayed-delivery warning was already sent for this entry. */
  readonly warned: boolean;
  /**
   * Fencing token of this lease: settling and renewing check it, so a holder whose lease
   * ran out (and was taken again, even by the same owner) can no longer settle the entry.
   */
  readonly leaseToken: string;
}

/** A new entry for the same message, made when another is completed (forwarding, SRS bounce). */
export interface Spawn {
  readonly rcpt: string;
  readonly mailFrom: string;
  readonly route: Route;
}

/** A new message queued in the same commit as a settle step: a DSN. Small, so a buffer. */
export interface Notice {
  readonly envelope: Envelope;
  readonly body: Buffer;
}

/**
 * A notice sent at most once per `key` until `until` (ms): an automatic reply, once per
 * sender per interval (RFC 3834 §2). Whether the key is taken is decided in the commit
 * that queues it, so two deliveries racing for it queue one notice.
 */
export interface OnceNotice {
  readonly key: string;
  readonly until: number;
  readonly notice: Notice;
}

/** One line of `hikyaku queue list`. */
export interface QueueListing {
  readonly id: number;
  readonly messageId: string;
  readonly mailFrom: string;
  readonly rcpt: string;
  readonly route: Route;
  readonly state: EntryState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly receivedAt: number;
}

/**
 * What `Spool.shape` groups by: the recipient's domain (where mail waits to go), the
 * sender's, or the owner's: the hosted domain the entry belongs to (the recipient's for
 * mail delivered here, the sender's for mail relayed out), which maps to a tenant.
 */
export type ShapeBy = 'recipient' | 'sender' | 'owner';

/** One row of the queue's shape: entries of one domain counted by age bucket. */
export interface ShapeRow {
  /** The domain ('<>' for the null sender). */
  readonly key: string;
  /** counts[i]: entries younger than bucketsMinutes[i] (and not younger than the bucket before); the last: older than all. */
  readonly counts: readonly number[];
}

/** Deferred entries with one last error. */
export interface DeferReason {
  readonly error: string;
  readonly count: number;
  /** Arrival of the oldest of them (ms since the epoch). */
  readonly oldestAt: number;
}

/** One spooled message as an operator sees it (`queue show`). */
export interface QueuedMessage {
  readonly messageId: string;
  readonly mailFrom: string;
  readonly size: number;
  readonly receivedAt: number;
  readonly smtputf8: boolean;
  /** Its entries still in the queue. */
  readonly entries: readonly QueueListing[];
  /** Every failed attempt of those entries, oldest first. */
  readonly attempts: readonly { readonly entryId: number; readonly at: number; readonly error: string }[];
}

/** Which entries an operator's command acts on: every condition given must hold. */
export interface QueueFilter {
  readonly ids?: readonly number[];
  /** A reverse-path exactly, '<>' for the null sender, or '@domain' for every sender of the domain. */
  readonly sender?: string;
  /** A recipient exactly, or '@domain' for every recipient in the domain. */
  readonly recipient?: string;
  /** Arrived more than this many minutes ago. */
  readonly olderThanMinutes?: number;
  readonly states?: readonly EntryState[];
  /** Entries owned by one of these domains (a tenant's): delivered ones by recipient domain, relayed ones by sender domain. */
  readonly ownerDomains?: readonly string[];
}

/**
 * A message being written to the spool; nothing is visible until `commit`. `write` and
 * `commit` reject with ERR_SPOOL_FULL when the storage has no room (a temporary 452 4.3.1).
 */
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
 * - Leases: an entry is leased to one owner until `leaseMs` passes (or `renew` extends
 *   it); an expired lease may be taken again, so a crashed worker's entries are delivered
 *   again. Each lease carries a new token.
 * - complete/defer/bounce/renew with a token that is no longer the entry's are ignored
 *   (return false / do not count): the lease was lost.
 * - A settle step and what it queues (spawned entries, a notice) commit together: a crash
 *   leaves either both or neither.
 * - A message's body is kept until every entry of it is finished.
 */
export interface Spool {
  begin(): Promise<SpoolWriter>;
  /** Leases up to `limit` entries of `route` that are due, oldest first. */
  lease(owner: string, limit: number, leaseMs: number, route?: Route): Promise<QueueEntry[]>;
  /**
   * Leases the other due entries of `entry`'s message with the same reverse-path and
   * route whose recipient is in `domain`, so that one SMTP transaction carries them all.
   */
  leaseSiblings(entry: QueueEntry, owner: string, leaseMs: number, domain: string): Promise<QueueEntry[]>;
  /** The body as written at accept time. */
  openBody(messageId: string): Readable;
  /**
   * Finished; `spawn` adds entries for the same message, and each of `once` whose key is
   * not taken (or has passed its time) is queued and takes the key, all in the same commit.
   */
  complete(entry: QueueEntry, spawn?: readonly Spawn[], once?: readonly OnceNotice[]): Promise<boolean>;
  /**
   * Mail for these (local) recipients that is waiting after a failed attempt — what a user
   * is told as "your mail is delayed". Cheap: only retried entries are looked at.
   */
  waitingFor(rcpts: readonly string[]): Promise<{ count: number; oldestReceivedAt: number | null }>;
  /** True while a OnceNotice with `key` holds it (queued, and its `until` not passed). */
  noticeKeyTaken(key: string, now?: number): Promise<boolean>;
  /** Retry at `retryAt`; a `notice` (delay warning) is queued with it and marks the entry warned. */
  defer(entry: QueueEntry, error: string, retryAt: number, notice?: Notice): Promise<boolean>;
  /** Permanent failure: the entry leaves the queue, its DSN (`notice`) enters it in the same commit. */
  bounce(entry: QueueEntry, notice?: Notice): Promise<boolean>;
  /** Extends the leases of `entries` still held (token unchanged) to `leaseMs` from now; returns how many. */
  renew(entries: readonly QueueEntry[], leaseMs: number): Promise<number>;
  /** Entries in the queue (matching `filter`, with an id above `afterId`), oldest first, for operators. */
  list(limit: number, filter?: QueueFilter, afterId?: number): Promise<QueueListing[]>;
  /**
   * Entries (of `state`, or all) grouped by domain and age since arrival, like Postfix's
   * qshape; `bucketsMinutes` ascending. For operators: it may read the whole queue.
   */
  shape(by: ShapeBy, bucketsMinutes: readonly number[], state?: EntryState): Promise<ShapeRow[]>;
  /**
   * Entries counted by route, state and owner domain (see ShapeBy 'owner'), for metrics by
   * tenant. It reads the whole queue: callers pace it (followQueueBreakdown).
   */
  ownerCounts(): Promise<{ route: Route; state: EntryState; domain: string; count: number }[]>;
  /** Deferred entries grouped by their last error, most common first, at most `limit` groups. */
  deferReasons(limit: number): Promise<DeferReason[]>;
  /** The message of entry `entryId`, with all its entries and their failed attempts; undefined if no such entry. */
  show(entryId: number): Promise<QueuedMessage | undefined>;
  /** Ids of entries matching `filter` with an id above `afterId`, ascending, at most `limit`; never 'active' ones (in delivery). */
  select(filter: QueueFilter, afterId: number, limit: number): Promise<number[]>;
  /** Puts queued and deferred entries among `ids` on hold (never due); returns how many. Durable when it resolves. */
  hold(ids: readonly number[]): Promise<number>;
  /** Makes the entries among `ids` that are in one of the states `from` due now (state queued); returns how many. */
  requeue(ids: readonly number[], from: readonly ('held' | 'deferred')[]): Promise<number>;
  /** Leases the entries among `ids` that are not in delivery (held ones too), so an operator can settle them like a worker. */
  leaseIds(ids: readonly number[], owner: string, leaseMs: number): Promise<QueueEntry[]>;
  /** Hands back every lease of `owner` (graceful shutdown). */
  release(owner: string): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Resolves once the spool has answered a trivial read (readiness checks); rejects when it cannot. */
  ping(): Promise<void>;
  /** Called after every commit in this process, so idle workers wake at once. */
  onCommit(listener: () => void): void;
  close(): Promise<void>;
}
