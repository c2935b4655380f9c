import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import addressparser from 'nodemailer/lib/addressparser';
import { HikyakuError } from '../../mail/index.js';
import type { RecipientDirectory } from '../../directory/index.js';
import { checkSender, checkSubmissionRecipient, type SendingLimits } from '../../inbound/index.js';
import { headerValues, parseHeaderFields, rfc5322Date } from '../../message/index.js';
import type { Spool } from '../../queue/index.js';
import type { Authenticator } from '../../auth/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { TlsMaterial } from '../tls.js';
import { plaintextLoginAllowed, type PlaintextLogin } from '../plaintext.js';
import { smtpError } from './replies.js';
import { adaptReplies, connectionOf, guardAuth, limitSession, type SmtpConnection } from './adapter.js';
import { installDataReader } from './data-reader.js';
import { receiveIntoSpool } from './receive.js';
import { baseServerOptions } from './server-options.js';
import { mailParamError, rcptParamError } from './params.js';

export interface SubmissionOptions {
  readonly host: string;
  /** STARTTLS port (587; dev 5870). */
  readonly port: number;
  /** Implicit TLS port (465, RFC 8314; dev 4650). */
  readonly tlsPort: number;
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxLineLength: number;
  readonly maxHops: number;
  readonly idleTimeoutSeconds: number;
  readonly maxSessionSeconds: number;
  readonly maxClients: number;
  readonly plaintextLogin: PlaintextLogin;
}

interface Transaction {
  recipients: string[];
  remote: string[];
}

/**
 * Authenticated submission (RFC 6409, role submission): AUTH PLAIN and LOGIN (RFC 4954)
 * offered only once the session is encrypted (STARTTLS, RFC 3207, or implicit TLS, RFC
 * 8314) unless `plaintextLogin` allows it; the sender must be the user's own address or
 * an alias of theirs, in the envelope and in From:; hourly sending limits; missing Date:
 * and Message-ID: are added (RFC 6409 §8). Hosted recipients are delivered here, others
 * relayed. Each message is in the spool, fsynced, before the 250.
 */
export class SubmissionServer {
  private readonly servers: SMTPServer[];
  private readonly transactions = new Map<string, Transaction>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly options: SubmissionOptions,
    private readonly authenticator: Authenticator,
    private readonly directory: RecipientDirectory,
    private readonly spool: Spool,
    private readonly limits: SendingLimits,
    tls: TlsMaterial,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    installDataReader();
    this.servers = [false, true].map((secure) => {
      const server = new SMTPServer({
        ...baseServerOptions(options, tls),
        secure,
        banner: 'Hikyaku ESMTP submission',
        authMethods: ['PLAIN', 'LOGIN'],
        // Checked per connection in onConnect, so that loopback may be allowed in dev.
        allowInsecureAuth: true,
        onConnect: (session, cb) => this.onConnect(server, session, cb),
        onClose: (session) => {
          this.transactions.delete(session.id);
          clearTimeout(this.timers.get(session.id));
          this.timers.delete(session.id);
          this.metrics.smtpConnections.dec({ role: 'submission' });
        },
        onAuth: (auth, session, cb) => void this.onAuth(auth, session, cb),
        onMailFrom: (address, session, cb) => {
          this.transactions.set(session.id, { recipients: [], remote: [] });
          // The other nodes' counts first (they never fail the call; a sick store leaves this node's own).
          void this.limits.pull(String(session.user)).then(() => {
            try {
              const error = mailParamError(address);
              if (error) throw error;
              checkSender(this.directory, String(session.user), address.address);
              this.limits.check(String(session.user));
              cb();
            } catch (err) {
              this.refuse(session, err, cb, { from: address.address });
            }
          });
        },
        onRcptTo: (address, session, cb) => {
          const t = this.transactions.get(session.id) ?? { recipients: [], remote: [] };
          try {
            const error = rcptParamError(address, session);
            if (error) throw error;
            const r = checkSubmissionRecipient(this.directory, address.address, t.recipients.length, this.options.maxRecipients);
            this.limits.checkRecipient(String(session.user), t.recipients.length);
            t.recipients.push(r.address);
            if (r.remote) t.remote.push(r.address);
            this.transactions.set(session.id, t);
            cb();
          } catch (err) {
            this.refuse(session, err, cb, { rcpt: address.address });
          }
        },
        onData: (stream, session, cb) => void this.onData(stream, session, cb),
      });
      server.on('error', (err) => this.log.warn({ err }, 'smtp server error'));
      return server;
    });
  }

  /** Listens on both ports. */
  async listen(): Promise<{ plain: AddressInfo; tls: AddressInfo }> {
    const [plain, tls] = await Promise.all(
      [this.options.port, this.options.tlsPort].map(
        (port, i) =>
          new Promise<AddressInfo>((resolve, reject) => {
            const server = this.servers[i]!;
            server.once('error', reject);
            server.listen(port, this.options.host, () => {
              server.off('error', reject);
              resolve(server.server.address() as AddressInfo);
            });
          }),
      ),
    );
    return { plain: plain!, tls: tls! };
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private onConnect(server: SMTPServer, session: SMTPServerSession, cb: (err?: Error) => void): void {
    const connection = connectionOf(server, session);
    if (connection) {
      this.guardAuth(connection);
      const { code, enhanced, text } = new HikyakuError('ERR_SESSION_TOO_LONG').smtpReply;
      const timer = limitSession(connection, this.options.maxSessionSeconds * 1000, code, `${enhanced} ${text}`, () => this.log.info({ cid: session.id }, 'session time limit reached'));
      this.timers.set(session.id, timer);
    }
    this.metrics.smtpConnections.inc({ role: 'submission' });
    this.log.debug({ cid: session.id, remote: session.remoteAddress }, 'connect');
    cb();
  }

  /**
   * smtp-server offers AUTH on every connection; on one where a password may not travel
   * in the clear, AUTH is left out of the EHLO reply and refused with 530 5.7.0 (RFC 3207 §4)
   * before the client sends any credentials.
   */
  private guardAuth(connection: SmtpConnection): void {
    const allowed = () => plaintextLoginAllowed(this.options.plaintextLogin, connection.secure, connection.remoteAddress);
    const send = adaptReplies(connection, (code) => this.metrics.countSmtpReply('submission', code), (lines) => (allowed() ? lines : lines.filter((line) => !/^AUTH\b/i.test(line))));
    guardAuth(connection, allowed, () => {
      const { code, enhanced, text } = new HikyakuError('ERR_TLS_REQUIRED').smtpReply;
      send(code, `${enhanced} ${text}`, false);
    });
  }

  private async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: { user: string }) => void): Promise<void> {
    const result = await this.authenticator.login(auth.username ?? '', auth.password ?? '', session.remoteAddress, 'submission');
    this.metrics.logins.inc({ protocol: 'submission', result: result.ok ? 'ok' : result.reason });
    if (result.ok) {
      this.log.info({ cid: session.id, user: result.account.address, method: auth.method }, 'authenticated');
      return cb(null, { user: result.account.address });
    }
    this.log.info({ cid: session.id, user: auth.username, reason: result.reason }, 'authentication failed');
    if (result.reason === 'not-allowed') return cb(smtpError(new HikyakuError('ERR_LOGIN_NOT_ALLOWED', result.detail)));
    const code = result.reason === 'rate-limited' ? 'ERR_AUTH_RATE_LIMITED' : result.reason === 'unavailable' ? 'ERR_AUTH_UNAVAILABLE' : result.reason === 'disabled' ? 'ERR_ACCOUNT_DISABLED' : 'ERR_AUTH_FAILED';
    cb(smtpError(new HikyakuError(code)));
  }

  private refuse(session: SMTPServerSession, err: unknown, cb: (err?: Error) => void, fields: object): void {
    this.metrics.smtpRefused.inc({ code: err instanceof HikyakuError ? err.code : 'internal' });
    this.log.info({ cid: session.id, user: session.user, err: err instanceof HikyakuError ? err.message : err, ...fields }, 'refused');
    cb(smtpError(err));
  }

  /**
   * RFC 6409 §8: the MSA may add a missing Date: and Message-ID:. From: must name only
   * addresses the user may send as; a message without From: gets the envelope sender.
   */
  private amendHeader(user: string, mailFrom: string, header: Buffer): Buffer {
    const fields = parseHeaderFields(header);
    const from = headerValues(fields, 'From');
    for (const value of from) {
      const list = addressparser(value, { flatten: true }) as { address?: string }[];
      if (list.length === 0) throw new HikyakuError('ERR_SENDER_NOT_OWNED', 'From: names no address');
      for (const a of list) checkSender(this.directory, user, a.address ?? '');
    }
    const added: string[] = [];
    if (from.length === 0) added.push(`From: <${mailFrom}>`);
    if (headerValues(fields, 'Date').length === 0) added.push(`Date: ${rfc5322Date(new Date())}`);
    if (headerValues(fields, 'Message-ID').length === 0) added.push(`Message-ID: <${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${this.options.hostname}>`);
    return added.length === 0 ? header : Buffer.concat([Buffer.from(added.join('\r\n') + '\r\n'), header]);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const t = this.transactions.get(session.id) ?? { recipients: [], remote: [] };
    const user = String(session.user);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const started = process.hrtime.bigint();
    let received;
    try {
      received = await receiveIntoSpool(stream, session, this.spool, { ...this.options, authenticated: true }, { mailFrom, recipients: t.recipients, remote: t.remote }, (h) =>
        this.amendHeader(user, mailFrom, h),
      );
    } catch (err) {
      if (['ERR_SPOOL_UNAVAILABLE', 'ERR_SPOOL_FULL'].includes((err as HikyakuError).code)) this.log.error({ cid: session.id, err }, 'could not spool message');
      return this.refuse(session, err, cb, {});
    }
    this.limits.record(user, t.recipients.length);
    this.metrics.smtpAccepted.inc();
    this.metrics.acceptSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.log.info({ cid: session.id, mid: received.messageId, user, from: mailFrom, rcpts: t.recipients.length, remote: t.remote.length }, 'submitted');
    cb(null, `Ok: queued as ${received.messageId}`);
  }
}
