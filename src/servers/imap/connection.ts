import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { constants as zlib, createDeflateRaw, createInflateRaw, type DeflateRaw } from 'node:zlib';
import { CommandReader, compact, type Chunk, type Frame, type ReaderLimits } from '../../imap/index.js';
import type { Logger } from '../../observability/index.js';
import { drained } from '../drained.js';

// Unprocessed pipelined input beyond this is not read until the session catches up.
const MAX_PENDING = 256 * 1024;
const MAX_QUEUED = 64;

export interface ConnectionEvents {
  /** A command the reader framed (or a line of an AUTHENTICATE exchange, or IDLE's DONE). */
  frame(frame: Frame): void;
  /** A command broke a limit; `fatal`: the stream cannot be followed and will be closed. */
  refused(tag: string | undefined, text: string, fatal: boolean): void;
  /** No input for the idle timeout. */
  timeout(): void;
  closed(): void;
}

/**
 * The bytes of one IMAP connection: framing input into commands (and answering literal
 * continuations), writing responses with backpressure, STARTTLS and COMPRESS=DEFLATE
 * (RFC 4978). It knows nothing of the protocol's states.
 */
export class ImapConnection {
  private socket: Socket;
  private reader: CommandReader;
  /** With COMPRESS=DEFLATE active, what we send goes through this. */
  private deflate: DeflateRaw | undefined;
  private detach: () => void = () => undefined;
  closed = false;

  constructor(
    socket: Socket,
    public secure: boolean,
    private readonly limits: ReaderLimits,
    private readonly idleTimeoutMs: number,
    private readonly log: Logger,
    private readonly on: ConnectionEvents,
  ) {
    this.socket = socket;
    this.reader = new CommandReader(limits);
    this.attach(socket);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get compressed(): boolean {
    return this.deflate !== undefined;
  }

  private attach(socket: Socket, onData = (d: Buffer) => this.onData(d)): void {
    socket.setNoDelay(true);
    socket.setTimeout(this.idleTimeoutMs);
    const onTimeout = () => this.on.timeout();
    const onError = (err: Error) => this.log.debug({ err }, 'socket error');
    const onClose = () => {
      this.closed = true;
      this.on.closed();
    };
    socket.on('data', onData).on('timeout', onTimeout).on('error', onError).on('close', onClose);
    this.detach = () => {
      socket.setTimeout(0);
      socket.off('data', onData).off('timeout', onTimeout).off('error', onError).off('close', onClose);
    };
  }

  private onData(data: Buffer): void {
    for (const event of this.reader.push(data)) {
      if (event.kind === 'frame') this.on.frame(event.frame);
      else if (event.kind === 'continue') void this.write(['+ Ready for the literal\r\n']);
      else {
        this.on.refused(event.tag, event.text, event.fatal);
        if (event.fatal) return;
      }
    }
  }

  /** Stops reading while the session has `queued` commands or much unframed input waiting. */
  throttle(queued: number): void {
    if (this.closed) return;
    if (this.reader.pending > MAX_PENDING || queued > MAX_QUEUED) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Writes chunks in order in one writev (callers hand over up to a few hundred KiB at a
   * time), then waits while the socket's buffer is over its mark. Corked, every write past
   * the 16 KiB mark reports a full buffer; stopping there would cut the answer into 16 KiB
   * syscalls.
   */
  async write(chunks: readonly Chunk[]): Promise<void> {
    if (this.closed) return;
    const sink = this.deflate ?? this.socket;
    sink.cork();
    for (const c of compact(chunks)) sink.write(c);
    sink.uncork();
    if (sink.writableNeedDrain && !this.closed) await drained(sink);
    // RFC 4978 §4: each response is flushed, so the client can read it now.
    this.deflate?.flush(zlib.Z_SYNC_FLUSH);
  }

  /** Ends the connection after what was written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // With compression, ending the deflate stream flushes it and then ends the socket (pipe).
    if (this.deflate) this.deflate.end();
    else this.socket.end();
  }

  /** RFC 9051 §6.2.1: after the OK, a TLS handshake; what the client pipelined after STARTTLS is discarded (CVE-2011-0411). */
  startTls(context: SecureContext): void {
    this.reader = new CommandReader(this.limits);
    this.detach();
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: context });
    this.socket = secure;
    this.secure = true;
    this.attach(secure);
  }

  /** RFC 4978: from now on both directions are raw DEFLATE streams; uncompressed input sent before our OK is dropped. */
  startCompression(): void {
    this.reader = new CommandReader(this.limits);
    this.detach();
    const socket = this.socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    deflate.pipe(socket);
    inflate.on('data', (d: Buffer) => this.onData(d));
    const broken = (err: Error) => {
      this.log.info({ err: err.message }, 'compressed stream broken');
      socket.destroy();
    };
    inflate.on('error', broken);
    deflate.on('error', broken);
    // A writer waiting for the deflate stream to drain is woken when the connection goes.
    socket.once('close', () => deflate.destroy());
    this.deflate = deflate;
    this.attach(socket, (d) => inflate.write(d));
  }
}
