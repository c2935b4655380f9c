import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { INBOX, isStoreTimeout, withDeadline, type MailStore, type StoredMessage } from '../../mailstore/index.js';
import { retrBody } from '../../pop3/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import { drained } from '../drained.js';
import { sendMessage } from './send-message.js';

export const TEMP = '[SYS/TEMP] The mailbox store did not answer in time; please try again shortly';

/** What RETR and TOP need of a session. */
export interface Retrieval {
  readonly socket: Socket;
  closed(): boolean;
  readonly accountId: number;
  readonly mailStore: MailStore;
  readonly storeTimeoutMs: number;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** A status line, counted in the reply metrics. */
  send(line: string): void;
}

/** A message of the session's listing: its number there, UID and size. */
export interface ListedMessage {
  readonly uid: number;
  readonly size: number;
  readonly n: number;
}

/** RETR of several pipelined messages: their bodies in one store read, the answers in one corked write. */
export async function retrieveMany(r: Retrieval, batch: readonly ListedMessage[]): Promise<void> {
  let bodies: Map<number, StoredMessage>;
  try {
    const timer = r.metrics.storeOpenSeconds.startTimer();
    bodies = await withDeadline(r.mailStore.readMessages(r.accountId, INBOX, batch.map((m) => m.uid)), r.storeTimeoutMs);
    timer();
  } catch (err) {
    r.log.warn({ err: isStoreTimeout(err) ? 'timeout' : err, uids: batch.map((m) => m.uid) }, 'message read failed');
    for (const _ of batch) r.send(`-ERR ${TEMP}`);
    return;
  }
  if (r.closed()) return;
  r.socket.cork();
  let flowing = true;
  for (const m of batch) {
    const stored = bodies.get(m.uid);
    // Expunged since the listing (another session, IMAP): this session cannot send it.
    if (!stored) {
      r.send(`-ERR Message ${m.n} was deleted by another session`);
      continue;
    }
    const body = stored.data;
    r.metrics.countPop3Reply('+OK', '');
    r.metrics.pop3RetrBytes.inc(body.length);
    r.socket.write(`+OK ${body.length} octets\r\n`);
    for (const part of retrBody(body, stored.sendable)) flowing = r.socket.write(part);
  }
  r.socket.uncork();
  if (!flowing && !r.closed()) await drained(r.socket);
}

/** TOP: the header and `bodyLines` lines of the body, streamed from the store. */
export async function retrieveTop(r: Retrieval, m: ListedMessage, bodyLines: number): Promise<void> {
  let stream: Readable;
  try {
    const timer = r.metrics.storeOpenSeconds.startTimer();
    stream = await withDeadline(r.mailStore.read(r.accountId, m.uid), r.storeTimeoutMs);
    timer();
  } catch (err) {
    r.log.warn({ err: isStoreTimeout(err) ? 'timeout' : err, uid: m.uid }, 'message read failed');
    return r.send(`-ERR ${TEMP}`);
  }
  r.metrics.countPop3Reply('+OK', '');
  const sent = await sendMessage(r.socket, stream, { head: '+OK Top of message follows', bodyLines, size: m.size, closed: r.closed, onBytes: (n) => r.metrics.pop3RetrBytes.inc(n) });
  // The response is already under way: the only honest signal left is to drop the connection.
  if (sent instanceof Error) {
    r.log.error({ err: sent, uid: m.uid }, 'message read failed mid-stream');
    r.socket.destroy();
  }
}
