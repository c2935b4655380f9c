import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { PassThrough } from 'node:stream';

/**
 * The DATA reader smtp-server's SMTPStream uses, replaced by one that finds line-initial
 * dots with Buffer.indexOf instead of looking at every byte in JavaScript: that loop was the
 * SMTP thread's largest single cost for big messages (7% of a core at 1,100 messages of
 * 64 KiB a second; ~90 µs a message against ~12 here, stream included). It reads what the
 * library's does, byte for byte, and leaves the same state behind (data-reader.test.ts
 * compares the two on random input cut at random places):
 *
 * - a body that starts with ".\r\n" is empty; one that starts with ".." loses the first dot;
 * - after a line feed, ".." loses a dot (dot-stuffing, RFC 5321 §4.5.2);
 * - "\r\n.\r\n" ends the data: what came before, with that CRLF, is the message, and what
 *   follows goes back to the command parser;
 * - the last four bytes wait for the next chunk, so a terminator cut in two is still found.
 *
 * It reaches into SMTPStream's private members, like adapter.ts (pinned version; the test
 * fails when they change).
 */
interface DataState {
  _dataStream: (PassThrough & { destroyed: boolean }) | null;
  _lastBytes: Buffer | false;
  _atDataStart: boolean;
  _countDataBytes(len: number): void;
  _endDataMode(data: Buffer | false, remainder: Buffer, done: () => void): void;
}

const LF_DOT = Buffer.from('\n.');
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** Bytes held back at the end of a chunk: enough to see "\r\n.\r\n" across the cut. */
const KEEP = 4;

function feedData(this: DataState, chunk: Buffer, done: () => void): void {
  const out = this._dataStream!;
  let buf = chunk;
  if (this._lastBytes && this._lastBytes.length > 0) {
    buf = Buffer.concat([this._lastBytes, chunk]);
    this._lastBytes = false;
  }
  if (this._atDataStart) {
    if (buf.length >= 3 && buf[0] === DOT && buf[1] === CR && buf[2] === LF) return this._endDataMode(false, buf.subarray(3), done);
    if (buf.length >= 2 && buf[0] === DOT && buf[1] === DOT) {
      buf = buf.subarray(1);
      this._atDataStart = false;
    }
  }
  const len = buf.length;
  const emit = (end: number) => {
    const part = buf.subarray(start, end);
    this._countDataBytes(part.length);
    return part;
  };
  // Bytes before `start` are passed on. A line-initial dot counts from `start + 2` on and
  // when two bytes follow it, as in the library's scan: the search starts at 1, and after
  // an escape at `start`, which holds the kept dot.
  let start = 0;
  for (let lf = buf.indexOf(LF_DOT, 1); lf !== -1 && lf <= len - 4; lf = buf.indexOf(LF_DOT, lf + 1)) {
    const dot = lf + 1;
    if (buf[dot - 2] === CR && buf[dot + 1] === CR && buf[dot + 2] === LF) return this._endDataMode(emit(dot), buf.subarray(dot + 3), done);
    if (buf[dot + 1] === DOT) {
      const part = emit(dot);
      if (out.writable) out.write(part);
      start = dot + 1;
      lf = dot;
    }
  }
  this._lastBytes = buf.subarray(Math.max(start, len - KEEP));
  if (len - start <= KEEP) return done();
  const part = emit(len - KEEP);
  if (!out.writable) return done();
  if (out.write(part) || out.destroyed) return done();
  // A stream that the application destroys never drains, it only closes.
  const resume = () => {
    out.removeListener('drain', resume);
    out.removeListener('close', resume);
    done();
  };
  out.once('drain', resume);
  out.once('close', resume);
}

/** The library's own reader, for the test that compares the two. */
export const libraryFeedData = (SMTPStream.prototype as unknown as { _feedDataStream: typeof feedData })._feedDataStream;

/** Puts feedData in place of the library's reader, for every SMTP server in this process. */
export function installDataReader(): void {
  (SMTPStream.prototype as unknown as { _feedDataStream: typeof feedData })._feedDataStream = feedData;
}
