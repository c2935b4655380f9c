import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { HikyakuError } from '../../mail/index.js';
import type { RecipientDirectory } from '../../directory/index.js';
import { checkMxRecipient } from '../../inbound/index.js';
import type { Spool } from '../../queue/index.js';
import { crashPoint, type Logger, type Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { smtpError } from './replies.js';
import { adaptReplies, connectionOf, limitSession } from './adapter.js';
import { installDataReader } from './data-reader.js';
import { receiveIntoSpool } from './receive.js';
import { baseServerOptions } from './server-options.js';
import { mailParamError, rcptParamError } from './params.js';

export interface MxOptions {
  readonly host: string;
  readonly port: number;
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxLineLength: number;
  readonly maxHops: number;
  readonly idleTimeoutSeconds: number;
  readonly maxSessionSeconds: number;
  readonly maxClients: number;
  readonly srsSecret: string;
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
    installDataReader();
    this.server = new SMTPServer({
      ...baseServerOptions(options, tls),
      banner: 'Hikyaku ESMTP',
      authOptional: true,
      disabledCommands: ['AUTH'],
      onConnect: (session, cb) => this.onConnect(session, cb),
      onClose: (session) => this.onClose(session),
      onMailFrom: (address, session, cb) => {
        this.state(session).recipients = [];
        const error = mailParamError(address);
        if (error) return this.refuse(session, error, cb, {});
        cb();
      },
      onRcptTo: (address, session, cb) => {
        const error = rcptParamError(address, session);
        if (error) return this.refuse(session, error, cb, { rcpt: address.address });
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
    const connection = connectionOf(this.server, session);
    if (connection) {
      adaptReplies(connection, (code) => this.metrics.countSmtpReply('mx', code));
      const { code, enhanced, text } = new HikyakuError('ERR_SESSION_TOO_LONG').smtpReply;
      this.state(session).timer = limitSession(connection, this.options.maxSessionSeconds * 1000, code, `${enhanced} ${text}`, () => this.log.info({ cid: session.id }, 'session time limit reached'));
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
      state.recipients.push(checkMxRecipient(this.directory, raw, state.recipients.length, this.options.maxRecipients, this.options.srsSecret));
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
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    let received;
    try {
      received = await receiveIntoSpool(stream, session, this.spool, { ...this.options, authenticated: false }, { mailFrom, recipients: state.recipients });
    } catch (err) {
      if (['ERR_SPOOL_UNAVAILABLE', 'ERR_SPOOL_FULL'].includes((err as HikyakuError).code)) this.log.error({ cid: session.id, err }, 'could not spool message');
      return this.refuse(session, err, cb, {});
    }
    crashPoint('spool-commit');
    this.metrics.smtpAccepted.inc();
    this.metrics.acceptSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.log.info({ cid: session.id, mid: received.messageId, from: mailFrom, rcpts: state.recipients.length, rewroteLineEndings: received.rewroteLineEndings }, 'accepted');
    cb(null, `Ok: queued as ${received.messageId}`);
  }
}
