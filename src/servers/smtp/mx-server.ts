import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { HikyakuError } from '../../mail/index.js';
import type { RecipientDirectory } from '../../directory/index.js';
import { checkMxRecipient } from '../../inbound/index.js';
import { LineNormalizer, receivedHeader } from '../../message/index.js';
import type { Spool } from '../../queue/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { patchReplies, smtpError } from './replies.js';

export interface MxOptions {
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxLineLength: number;
  readonly idleTimeoutSeconds: number;
  readonly maxSessionSeconds: number;
  readonly maxClients: number;
}

// RFC 5321 §4.1.1.11: a parameter the server did not announce gets 555.
const MAIL_PARAMS = ['SIZE', 'BODY', 'SMTPUTF8'];

const NON_ASCII = /[^\x00-\x7f]/;

function hasParam(args: unknown, name: string): boolean {
  return Boolean(args && typeof args === 'object' && Object.keys(args).some((k) => k.toUpperCase() === name));
}

function unknownParams(args: unknown, allowed: readonly string[]): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  return Object.keys(args).find((k) => !allowed.includes(k.toUpperCase()));
}

interface SessionState {
  /** Normalized recipients accepted so far, in order (smtp-server keeps the raw ones). */
  recipients: string[];
  timer?: NodeJS.Timeout;
}

/**
 * Inbound SMTP for hosted domains (role mx). ESMTP with PIPELINING, SIZE, 8BITMIME,
 * SMTPUTF8, ENHANCEDSTATUSCODES and STARTTLS. Accepts only hosted recipients, whatever
 * the client's address. Each message is in the spool, fsynced, before the 250.
 */
export class MxServer {
  private readonly server: SMTPServer;
  private readonly sessions = new Map<string, SessionState>();

  constructor(
    private readonly options: MxOptions,
    private readonly directory: RecipientDirectory,
    private readonly spool: Spool,
    tls: TlsMaterial,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.server = new SMTPServer({
      name: options.hostname,
      banner: 'Hikyaku ESMTP',
      key: tls.key,
      cert: tls.cert,
      size: options.maxMessageBytes,
      hideENHANCEDSTATUSCODES: false,
      // DSN (RFC 3461) is advertised only once bounces exist.
      hideDSN: true,
      hideREQUIRETLS: true,
      authOptional: true,
      disabledCommands: ['AUTH'],
      disableReverseLookup: true,
      maxClients: options.maxClients,
      socketTimeout: options.idleTimeoutSeconds * 1000,
      // RFC 5321 §4.5.3.1.4: command lines are at most 512 octets; extensions may add
      // parameters, so allow some room and answer 500 beyond it.
      maxCommandLength: 2048,
      logger: false,
      // On shutdown, sessions still open after this are closed.
      closeTimeout: 5000,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onClose: (session) => this.onClose(session),
      onMailFrom: (address, session, cb) => {
        this.state(session).recipients = [];
        const unknown = unknownParams(address.args, MAIL_PARAMS);
        if (unknown) return this.refuse(session, new HikyakuError('ERR_PARAM_UNKNOWN', unknown), cb, {});
        if (NON_ASCII.test(address.address) && !hasParam(address.args, 'SMTPUTF8')) return this.refuse(session, new HikyakuError('ERR_UTF8_REQUIRED'), cb, {});
        cb();
      },
      onRcptTo: (address, session, cb) => {
        // No RCPT parameters are offered until DSN (RFC 3461) is.
        const unknown = unknownParams(address.args, []);
        if (unknown) return this.refuse(session, new HikyakuError('ERR_PARAM_UNKNOWN', unknown), cb, { rcpt: address.address });
        // RFC 6531 §3.5: a non-ASCII address in a transaction without SMTPUTF8 gets 553 5.6.7.
        if (NON_ASCII.test(address.address) && !hasParam(session.envelope.mailFrom ? session.envelope.mailFrom.args : undefined, 'SMTPUTF8')) {
          return this.refuse(session, new HikyakuError('ERR_UTF8_REQUIRED'), cb, { rcpt: address.address });
        }
        this.onRcptTo(address.address, session, cb);
      },
      onData: (stream, session, cb) => void this.onData(stream, session, cb),
    });
    this.server.on('error', (err) => this.log.warn({ err }, 'smtp server error'));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections; sessions still open after `closeTimeout` are closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private state(session: SMTPServerSession): SessionState {
    let s = this.sessions.get(session.id);
    if (!s) {
      s = { recipients: [] };
      this.sessions.set(session.id, s);
    }
    return s;
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    const connection = [...this.server.connections].find((c) => c.id === session.id);
    if (connection) {
      patchReplies(connection);
      const state = this.state(session);
      state.timer = setTimeout(() => {
        const { code, enhanced, text } = new HikyakuError('ERR_SESSION_TOO_LONG').smtpReply;
        this.log.info({ cid: session.id }, 'session time limit reached');
        connection.send(code, `${enhanced} ${text}`, false);
        connection.close();
      }, this.options.maxSessionSeconds * 1000);
    }
    this.metrics.smtpConnections.inc({ role: 'mx' });
    this.log.debug({ cid: session.id, remote: session.remoteAddress }, 'connect');
    cb();
  }

  private onClose(session: SMTPServerSession): void {
    const state = this.sessions.get(session.id);
    clearTimeout(state?.timer);
    this.sessions.delete(session.id);
    this.metrics.smtpConnections.dec({ role: 'mx' });
  }

  private onRcptTo(raw: string, session: SMTPServerSession, cb: (err?: Error) => void): void {
    const state = this.state(session);
    try {
      state.recipients.push(checkMxRecipient(this.directory, raw, state.recipients.length, this.options.maxRecipients));
      cb();
    } catch (err) {
      this.refuse(session, err, cb, { rcpt: raw });
    }
  }

  private refuse(session: SMTPServerSession, err: unknown, cb: (err?: Error) => void, fields: object): void {
    const reply = smtpError(err);
    this.metrics.smtpRefused.inc({ code: err instanceof HikyakuError ? err.code : 'internal' });
    this.log.info({ cid: session.id, err: err instanceof HikyakuError ? err.code : err, ...fields }, 'refused');
    cb(reply);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const state = this.state(session);
    const started = process.hrtime.bigint();
    const normalizer = new LineNormalizer();
    let writer;
    try {
      writer = await this.spool.begin();
    } catch (err) {
      stream.resume();
      stream.once('end', () => this.refuse(session, new HikyakuError('ERR_SPOOL_UNAVAILABLE', undefined, { cause: err }), cb, {}));
      return;
    }
    const utf8 = hasParam(session.envelope.mailFrom ? session.envelope.mailFrom.args : undefined, 'SMTPUTF8');
    const protocol = (utf8 ? 'UTF8SMTP' : 'ESMTP') + (session.secure ? 'S' : '');
    try {
      await writer.write(
        receivedHeader({
          helo: session.hostNameAppearsAs ?? 'unknown',
          remoteAddress: session.remoteAddress,
          byHost: this.options.hostname,
          protocol,
          id: writer.messageId,
          forAddress: state.recipients.length === 1 ? state.recipients[0] : undefined,
          date: new Date(),
        }),
      );
      let writing = true;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const out = normalizer.push(chunk);
        // Past a limit the rest is read and dropped, so the reply comes after the final dot.
        if (normalizer.longestLine > this.options.maxLineLength) writing = false;
        if (writing && out.length > 0) await writer.write(out);
      }
      await writer.write(normalizer.end());
      if (stream.sizeExceeded) {
        await writer.abort();
        return this.refuse(session, new HikyakuError('ERR_MESSAGE_TOO_BIG', `the limit is ${this.options.maxMessageBytes} octets`), cb, {});
      }
      if (normalizer.longestLine > this.options.maxLineLength) {
        await writer.abort();
        return this.refuse(session, new HikyakuError('ERR_LINE_TOO_LONG', `${normalizer.longestLine} octets, the limit is ${this.options.maxLineLength}`), cb, {});
      }
      await writer.commit({ mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', recipients: state.recipients, smtputf8: utf8 });
    } catch (err) {
      await writer.abort();
      this.log.error({ cid: session.id, err }, 'could not spool message');
      return this.refuse(session, new HikyakuError('ERR_SPOOL_UNAVAILABLE', undefined, { cause: err }), cb, {});
    }
    this.metrics.smtpAccepted.inc();
    this.metrics.acceptSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.log.info({ cid: session.id, mid: writer.messageId, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcpts: state.recipients.length, rewroteLineEndings: normalizer.rewrote }, 'accepted');
    cb(null, `Ok: queued as ${writer.messageId}`);
  }
}
