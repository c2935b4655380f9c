/** What every backend shares: the queue's rows as queries name their columns (flags as 0/1), recognising a lease owner that died on this host, and reading an append's body. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { EntryState, QueueEntry, QueueListing, Route } from '../queue/index.js';
import type { AppendInput, StoredMessage } from '../mailstore/index.js';
import { sendsAsStored } from '../pop3/index.js';

/** A leased entry joined with its message. */
export interface EntryRow {
  id: number;
  message_id: string;
  rcpt: string;
  route: Route;
  attempts: number;
  warned: number;
  lease_token: string;
  mail_from: string;
  size: number;
  smtputf8: number;
  received_at: number;
}

export function toEntry(r: EntryRow): QueueEntry {
  return {
    id: r.id,
    messageId: r.message_id,
    rcpt: r.rcpt,
    route: r.route,
    attempts: r.attempts,
    warned: r.warned === 1,
    leaseToken: r.lease_token,
    mailFrom: r.mail_from,
    size: r.size,
    smtputf8: r.smtputf8 === 1,
    receivedAt: r.received_at,
  };
}

/** A listing row as every backend's query names its columns. */
export type ListingRow = { id: number; message_id: string; mail_from: string; rcpt: string; route: Route; state: EntryState; attempts: number; next_attempt_at: number; last_error: string | null; received_at: number };

export function toListing(r: ListingRow): QueueListing {
  return {
    id: r.id,
    messageId: r.message_id,
    mailFrom: r.mail_from,
    rcpt: r.rcpt,
    route: r.route,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    receivedAt: r.received_at,
  };
}

/** True for a lease owner (host:pid:…) that ran on this host and whose process is gone: its leases may come back at once. */
export function ownerDiedHere(owner: string): boolean {
  const [host, pid] = owner.split(':');
  return host === hostname() && !isAlive(Number(pid));
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process its parent has not reaped yet still answers signal 0: a zombie (state Z) is dead.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Reads an append's body into memory, checking that its size is what the caller said. */
export async function readAppendBody(input: AppendInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input.openBody()) chunks.push(c as Buffer);
  // One chunk (a body read from a database row) is used as it is, not copied.
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (data.length !== input.bodySize) throw new Error(`body is ${data.length} bytes, expected ${input.bodySize}`);
  return data;
}

/**
 * A message read back: its header lines (when it has any) before the body. Sendable as it
 * is when the body was found so as it was stored, and the header is so too (it ends in CRLF,
 * so the two cannot make a bare line ending or a leading dot between them). The header is
 * looked at only when asked: IMAP, which reads through here too, never asks.
 */
export function withHeader(header: Buffer | null, body: Buffer, bodySendable: boolean): StoredMessage {
  if (!header || header.length === 0) return { data: body, sendable: bodySendable };
  return new HeaderedMessage(Buffer.concat([header, body]), header, bodySendable);
}

class HeaderedMessage implements StoredMessage {
  constructor(
    readonly data: Buffer,
    private readonly header: Buffer,
    private readonly bodySendable: boolean,
  ) {}

  get sendable(): boolean {
    return this.bodySendable && sendsAsStored(this.header);
  }
}
