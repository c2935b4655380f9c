import type { Writable } from 'node:stream';
import type { SMTPServer, SMTPServerSession } from 'smtp-server';

/**
 * Where Hikyaku reaches into smtp-server's private parts (pinned in package.json;
 * adapter.test.ts checks on every run that these parts are still there), with DATA's
 * reader (data-reader.ts, whose test compares it with the library's):
 * - `server.connections`, to find a session's connection;
 * - `connection.send`, to reply with our own enhanced codes and to rewrite two replies;
 * - `connection.handler_AUTH`, to refuse AUTH before TLS without reading credentials;
 * - `connection.close`, to end a session that ran past its time limit;
 * - `connection._socket`, to send the replies to pipelined commands together.
 */
export type SendFn = (code: number, data?: string | string[], context?: string | false) => void;

export interface SmtpConnection {
  readonly id: string;
  readonly secure: boolean;
  readonly remoteAddress: string;
  send: SendFn;
  close(): void;
  /** The socket replies are written to (a TLS socket after STARTTLS). */
  readonly _socket?: Writable;
  handler_AUTH?: (command: Buffer, callback: () => void) => void;
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) /;

/** The connection object of `session`, if the server still has it. */
export function connectionOf(server: SMTPServer, session: SMTPServerSession): SmtpConnection | undefined {
  return [...(server as unknown as { connections: Set<SmtpConnection> }).connections].find((c) => c.id === session.id);
}

/**
 * smtp-server derives the enhanced status code (RFC 3463) from the reply code alone, so
 * every 550 would say 5.1.1 and every 554 5.6.0, whatever the reason. Our errors carry
 * their own enhanced code at the start of the text; those replies are sent as given.
 * A command line past the limit gets RFC 5321 §4.5.3.1.4's 500 5.5.2 instead of the
 * library's 421 (its parser cannot go on after one, so the connection then closes).
 * `onReply` sees the code of every reply sent; `ehlo` may edit the EHLO keyword lines.
 */
export function adaptReplies(connection: SmtpConnection, onReply: (code: number) => void, ehlo?: (lines: string[]) => string[]): SendFn {
  const raw = groupedReplies(connection);
  const send: SendFn = (code, data, context) => {
    onReply(code);
    raw(code, data, context);
  };
  connection.send = (code, data, context) => {
    if (code === 421 && typeof data === 'string' && /^Error: Command line too long/.test(data)) return send(500, '5.5.2 Line too long', false);
    if (code === 250 && Array.isArray(data) && ehlo) data = ehlo(data);
    if (typeof data === 'string' && ENHANCED.test(data) && context !== false) return send(code, data, false);
    return send(code, data, context);
  };
  return send;
}

/**
 * RFC 2920 §3.1: a server may send the replies to a group of pipelined commands together.
 * smtp-server answers MAIL, RCPT and DATA of one group within one turn of the event loop,
 * each with a write of its own; a 250 or 354 is held (the socket corked) until the turn
 * ends, so the group leaves in one packet and the client wakes once. Any other reply first
 * lets out what was held and goes at once: a 220 to STARTTLS must be on the wire before the
 * TLS handshake takes the socket over, and a 421 before the connection closes.
 */
function groupedReplies(connection: SmtpConnection): SendFn {
  const raw = connection.send.bind(connection);
  let corked: Writable | undefined;
  const release = () => {
    corked?.uncork();
    corked = undefined;
  };
  return (code, data, context) => {
    if (code !== 250 && code !== 354) {
      release();
      return raw(code, data, context);
    }
    const socket = connection._socket;
    if (!corked && socket) {
      socket.cork();
      corked = socket;
      setImmediate(release);
    }
    raw(code, data, context);
  };
}

/** Runs `refuse` instead of smtp-server's AUTH handler while `allowed()` is false. */
export function guardAuth(connection: SmtpConnection, allowed: () => boolean, refuse: () => void): void {
  const handle = connection.handler_AUTH!;
  connection.handler_AUTH = (command, callback) => {
    if (allowed()) return handle.call(connection, command, callback);
    refuse();
    callback();
  };
}

/** Ends the session with `code text` after `ms`; returns the timer to clear when the session closes. */
export function limitSession(connection: SmtpConnection, ms: number, code: number, text: string, onLimit: () => void): NodeJS.Timeout {
  return setTimeout(() => {
    onLimit();
    connection.send(code, text, false);
    connection.close();
  }, ms);
}
