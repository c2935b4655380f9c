import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Pop3Encoder } from '../../pop3/index.js';
import { drained } from '../drained.js';

// Messages up to this size leave in one write (one syscall) instead of one per piece.
const CORK_MAX = 128 * 1024;

/**
 * Writes a RETR/TOP response: the status line, the message dot-stuffed (RFC 1939 §3) up to
 * `bodyLines` body lines, and the terminating dot; waits for the socket to drain when its
 * buffer is full. Returns the error if the message could not be read to its end (the
 * caller must then drop the connection: the response is already under way).
 */
export async function sendMessage(
  socket: Socket,
  stream: Readable,
  o: { head: string; bodyLines: number; size: number; closed(): boolean; onBytes(n: number): void },
): Promise<Error | undefined> {
  const encoder = new Pop3Encoder(o.bodyLines);
  let corked = o.size <= CORK_MAX;
  if (corked) socket.cork();
  socket.write(`${o.head}\r\n`);
  try {
    for await (const chunk of stream) {
      if (o.closed()) break;
      const out = encoder.push(chunk as Buffer);
      o.onBytes(out.length);
      if (!socket.write(out)) {
        // A corked socket never drains: let the buffered data go first.
        if (corked) socket.uncork();
        corked = false;
        await drained(socket);
      }
      if (encoder.finished) break;
    }
  } catch (err) {
    if (corked) socket.uncork();
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    stream.destroy();
  }
  if (!o.closed()) socket.write(encoder.end());
  if (corked) socket.uncork();
  return undefined;
}
