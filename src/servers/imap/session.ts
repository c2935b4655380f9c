import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../../directory/index.js';
import type { Authenticator } from '../../auth/index.js';
import { withDeadline, type MailStore } from '../../mailstore/index.js';
import { ParseError, parseCommand, type Chunk, type Command, type Frame } from '../../imap/index.js';
import { decodePlain } from '../../sasl/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import { plaintextLoginAllowed } from '../plaintext.js';
import type { ImapContext, ImapOptions } from './context.js';
import type { MessageCache } from './message-cache.js';
import type { SelectedMailbox } from './selected.js';
import type { ChangeWatcher } from './watcher.js';
import { bad, errorReply, isExpected, loginFailureReply, no, ok, type Reply } from './replies.js';
import { authenticatedCommand } from './commands-mailbox.js';
import { selectedCommand } from './commands-message.js';
import { textOf } from './args.js';
import { ImapConnection } from './connection.js';

export interface ImapDeps {
  readonly authenticator: Authenticator;
  readonly mailStore: MailStore;
  readonly tls: SecureContext;
  readonly options: ImapOptions;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly cache: MessageCache;
  readonly watcher: ChangeWatcher;
}

type SaslWait = { mechanism: 'PLAIN' } | { mechanism: 'LOGIN'; user?: string };

/** One IMAP connection: not authenticated → authenticated → selected → logout (RFC 9051 §3). */
export class ImapSession implements ImapContext {
  private readonly cid = randomBytes(6).toString('hex');
  readonly log: Logger;
  private readonly conn: ImapConnection;
  private readonly queue: Frame[] = [];
  private busy = false;
  private unauthenticated = 0;
  private user: AccountRecord | undefined;
  private sasl: { tag: string; wait: SaslWait } | undefined;
  private idling: { tag: string; stop: () => void } | undefined;
  selected: SelectedMailbox | undefined;
  utf8 = false;
  rev2 = false;
  condstore = false;
  qresync = false;

  constructor(
    socket: Socket,
    secure: boolean,
    private readonly deps: ImapDeps,
  ) {
    this.log = deps.log.child({ cid: this.cid, remote: socket.remoteAddress });
    const limits = { maxLine: deps.options.maxLineBytes, maxLiteral: deps.options.maxMessageBytes, maxLiterals: 16 };
    this.conn = new ImapConnection(socket, secure, limits, deps.options.idleTimeoutSeconds * 1000, this.log, {
      frame: (frame) => {
        this.queue.push(frame);
        this.conn.throttle(this.queue.length);
        void this.drain();
      },
      refused: (tag, text, fatal) => {
        void this.reply(tag ?? '*', bad(text));
        if (fatal) void this.write(['* BYE The input cannot be followed any more, closing the connection\r\n']).then(() => this.close());
      },
      timeout: () => {
        this.log.info('idle timeout');
        void this.write(['* BYE Idle for too long, closing the connection\r\n']).then(() => this.close());
      },
      closed: () => this.onClose(),
    });
    deps.metrics.imapSessions.inc();
    void this.write([`* OK [CAPABILITY ${this.capabilities().join(' ')}] ${deps.options.hostname} Hikyaku IMAP ready\r\n`]);
  }

  get account(): AccountRecord {
    return this.user!;
  }
  get options(): ImapOptions {
    return this.deps.options;
  }
  get cache(): MessageCache {
    return this.deps.cache;
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.conn.closed) await this.handle(this.queue.shift()!);
    } catch (err) {
      this.log.error({ err }, 'session failed');
      await this.write(['* BYE Internal error, closing the connection\r\n']);
      this.close();
    } finally {
      this.busy = false;
      this.conn.throttle(this.queue.length);
    }
  }

  write(chunks: readonly Chunk[]): Promise<void> {
    return this.conn.write(chunks);
  }

  untagged(chunks: readonly Chunk[]): Promise<void> {
    return this.write([...chunks, '\r\n']);
  }

  private reply(tag: string, r: Reply): Promise<void> {
    if (tag !== '*') this.deps.metrics.countImapReply(r.status, r.code?.split(' ')[0] ?? '');
    return this.write([`${tag} ${r.status} ${r.code ? `[${r.code}] ` : ''}${r.text}\r\n`]);
  }

  private close(): void {
    this.idling?.stop();
    this.conn.close();
  }

  private onClose(): void {
    this.idling?.stop();
    this.deps.metrics.imapSessions.dec();
    this.log.debug('closed');
  }

  call<T>(work: (store: MailStore) => Promise<T>): Promise<T> {
    return withDeadline(work(this.deps.mailStore), this.deps.options.storeTimeoutMs);
  }

  enableCondstore(): void {
    this.condstore = true;
  }

  async sync(expunges: boolean): Promise<void> {
    const view = this.selected;
    if (!view) return;
    const current = (await this.call((s) => s.highestModseqs([view.folder.id]))).get(view.folder.id);
    if (current === undefined) {
      // The folder was deleted or renamed by another session: nothing more can be done in it.
      this.selected = undefined;
      await this.write(['* BYE The selected folder was deleted or renamed elsewhere\r\n']);
      return this.close();
    }
    if (current === view.highestModseq && !(expunges && view.ghosts)) return;
    const { folder, messages } = await this.call((s) => s.messages(this.account.id, view.name));
    for (const line of view.apply(folder, messages, { expunges, qresync: this.qresync, condstore: this.condstore })) await this.untagged(line);
  }

  private get plaintextAllowed(): boolean {
    return plaintextLoginAllowed(this.deps.options.plaintextLogin, this.conn.secure, this.conn.remoteAddress);
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'MOVE', 'CHILDREN', 'SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', 'ESEARCH', 'CONDSTORE', 'QRESYNC', 'BINARY', `APPENDLIMIT=${this.deps.options.maxMessageBytes}`, 'QUOTA', 'QUOTA=RES-STORAGE', 'UTF8=ACCEPT', 'STATUS=SIZE', 'COMPRESS=DEFLATE'];
    if (!this.user) {
      if (!this.conn.secure) caps.push('STARTTLS');
      // RFC 9051 §6.2.3: LOGINDISABLED where a password may not be sent on this connection.
      if (this.plaintextAllowed) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
      else caps.push('LOGINDISABLED');
    }
    return caps;
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.sasl) return this.saslStep(frame);
    if (this.idling) return this.endIdle(frame);
    let cmd: Command | undefined;
    let invalid: ParseError | undefined;
    try {
      cmd = parseCommand(frame);
    } catch (err) {
      invalid = err as ParseError;
    }
    const tag = cmd?.tag ?? invalid?.tag ?? '*';
    // Garbage counts too: a client that never logs in is sent away after so many lines.
    if (!this.user && ++this.unauthenticated > this.deps.options.maxUnauthenticatedCommands) {
      await this.reply(tag, bad('Too many commands without logging in'));
      await this.write(['* BYE Closing the connection\r\n']);
      return this.close();
    }
    if (!cmd) return this.reply(tag, bad(invalid!.message));
    let reply: Reply | undefined;
    try {
      reply = await this.dispatch(cmd);
    } catch (err) {
      if (!isExpected(err)) this.log.warn({ err, command: cmd.name }, 'command failed');
      reply = errorReply(err);
    }
    if (reply) await this.reply(cmd.tag, reply);
  }

  private async dispatch(cmd: Command): Promise<Reply | undefined> {
    switch (cmd.name) {
      case 'CAPABILITY':
        await this.untagged([`* CAPABILITY ${this.capabilities().join(' ')}`]);
        return ok('CAPABILITY completed');
      case 'NOOP':
      case 'CHECK':
        if (cmd.name === 'CHECK' && !this.selected) break;
        await this.sync(true);
        return ok(`${cmd.name} completed`);
      case 'LOGOUT':
        await this.write(['* BYE Logging out\r\n']);
        await this.reply(cmd.tag, ok('LOGOUT completed'));
        this.close();
        return undefined;
      case 'ID':
        // RFC 2971: the client's identification is logged; ours is the product name only.
        this.log.info({ client: cmd.args.map(textOf).join(' ').slice(0, 300) }, 'client id');
        await this.untagged(['* ID ("name" "Hikyaku")']);
        return ok('ID completed');
      case 'STARTTLS':
        return this.starttls(cmd);
      case 'LOGIN':
        return this.login(cmd);
      case 'AUTHENTICATE':
        return this.authenticate(cmd);
      case 'IDLE':
        if (!this.user) break;
        return this.startIdle(cmd);
      case 'ENABLE':
        if (!this.user) break;
        return this.enable(cmd);
      case 'COMPRESS':
        if (!this.user) break;
        return this.compress(cmd);
    }
    if (!this.user) return bad(`${cmd.name} is not valid before logging in`);
    const authenticated = await authenticatedCommand(this, cmd);
    if (authenticated) return authenticated;
    if (!this.selected) return bad(`${cmd.name} needs a selected folder, or is not a command we know`);
    return selectedCommand(this, cmd);
  }

  private async starttls(cmd: Command): Promise<Reply | undefined> {
    if (this.conn.secure) return bad('TLS is already active');
    if (this.user) return bad('STARTTLS is only valid before logging in');
    await this.reply(cmd.tag, ok('Begin TLS negotiation now'));
    this.queue.length = 0;
    this.conn.startTls(this.deps.tls);
    return undefined;
  }

  /** RFC 4978: from the OK on, both directions are raw DEFLATE streams. */
  private async compress(cmd: Command): Promise<Reply | undefined> {
    if (this.conn.compressed) return no('Compression is already active', 'COMPRESSIONACTIVE');
    if (cmd.args.length !== 1 || cmd.args[0]!.kind !== 'atom' || cmd.args[0]!.text.toUpperCase() !== 'DEFLATE') return bad('Usage: COMPRESS DEFLATE');
    await this.reply(cmd.tag, ok('DEFLATE active'));
    // Anything sent after the command before our OK was uncompressed, which RFC 4978 §3 forbids: dropped.
    this.queue.length = 0;
    this.conn.startCompression();
    return undefined;
  }

  private async login(cmd: Command): Promise<Reply> {
    if (this.user) return bad('Already logged in');
    if (!this.plaintextAllowed) return no('Plaintext login is not allowed without TLS; use STARTTLS', 'PRIVACYREQUIRED');
    if (cmd.args.length !== 2 || cmd.args.some((a) => a.kind === 'list')) return bad('Usage: LOGIN user password');
    return this.loginAs(textOf(cmd.args[0]!), textOf(cmd.args[1]!));
  }

  private async loginAs(username: string, password: string): Promise<Reply> {
    const result = await this.deps.authenticator.login(username, password, this.conn.remoteAddress, 'imap');
    if (!result.ok) {
      this.deps.metrics.logins.inc({ protocol: 'imap', result: result.reason });
      this.log.info({ user: username, reason: result.reason }, 'login failed');
      return loginFailureReply(result);
    }
    this.user = result.account;
    this.deps.metrics.logins.inc({ protocol: 'imap', result: 'ok' });
    this.log.info({ user: result.account.address }, 'logged in');
    return ok('Logged in', `CAPABILITY ${this.capabilities().join(' ')}`);
  }

  private async authenticate(cmd: Command): Promise<Reply | undefined> {
    if (this.user) return bad('Already logged in');
    const mechanism = cmd.args[0]?.kind === 'atom' ? cmd.args[0].text.toUpperCase() : '';
    if (mechanism !== 'PLAIN' && mechanism !== 'LOGIN') return no('Unsupported mechanism; use PLAIN or LOGIN', 'CANNOT');
    if (!this.plaintextAllowed) return no('Password authentication is not allowed without TLS; use STARTTLS', 'PRIVACYREQUIRED');
    if (cmd.args.length > 2) return bad('Usage: AUTHENTICATE mechanism [initial-response]');
    const initial = cmd.args[1] ? textOf(cmd.args[1]) : undefined;
    if (mechanism === 'PLAIN') {
      // RFC 4959 (SASL-IR): "=" is an empty initial response.
      if (initial !== undefined) return this.plain(initial === '=' ? '' : initial);
      this.sasl = { tag: cmd.tag, wait: { mechanism: 'PLAIN' } };
      await this.write(['+ \r\n']);
      return undefined;
    }
    if (initial !== undefined) {
      const user = decodeBase64Text(initial);
      if (user === undefined) return bad('Invalid base64 in the initial response');
      this.sasl = { tag: cmd.tag, wait: { mechanism: 'LOGIN', user } };
      await this.write(['+ UGFzc3dvcmQ6\r\n']);
      return undefined;
    }
    this.sasl = { tag: cmd.tag, wait: { mechanism: 'LOGIN' } };
    await this.write(['+ VXNlcm5hbWU6\r\n']);
    return undefined;
  }

  private async plain(response: string): Promise<Reply> {
    const creds = decodePlain(response);
    if ('error' in creds) return bad(creds.error);
    if (creds.authzid && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) return no('Logging in as another user is not allowed', 'AUTHORIZATIONFAILED');
    return this.loginAs(creds.authcid, creds.password);
  }

  /** A line of an AUTHENTICATE exchange (RFC 9051 §6.2.2). */
  private async saslStep(frame: Frame): Promise<void> {
    const { tag, wait } = this.sasl!;
    this.sasl = undefined;
    const line = frame.parts.length === 1 && typeof frame.parts[0] === 'string' ? frame.parts[0].trim() : undefined;
    if (line === undefined) return this.reply(tag, bad('A SASL response is one line of base64'));
    if (line === '*') return this.reply(tag, bad('Authentication cancelled'));
    if (wait.mechanism === 'PLAIN') return this.reply(tag, await this.plain(line));
    const text = decodeBase64Text(line);
    if (text === undefined) return this.reply(tag, bad('Invalid base64 in the SASL response'));
    if (wait.user === undefined) {
      this.sasl = { tag, wait: { mechanism: 'LOGIN', user: text } };
      return this.write(['+ UGFzc3dvcmQ6\r\n']);
    }
    return this.reply(tag, await this.loginAs(wait.user, text));
  }

  private enable(cmd: Command): Reply {
    const enabled: string[] = [];
    for (const a of cmd.args) {
      const name = a.kind === 'atom' ? a.text.toUpperCase() : '';
      if (name === 'CONDSTORE' || name === 'QRESYNC') {
        this.condstore = true;
        if (name === 'QRESYNC') this.qresync = true;
        enabled.push(name);
      } else if (name === 'UTF8=ACCEPT' || name === 'IMAP4REV2') {
        // RFC 9051 implies UTF-8 strings and names (its §6.3.1); UTF8=ACCEPT is RFC 6855's.
        this.utf8 = true;
        if (name === 'IMAP4REV2') this.rev2 = true;
        enabled.push(name === 'IMAP4REV2' ? 'IMAP4rev2' : name);
      }
    }
    void this.untagged([`* ENABLED${enabled.map((e) => ` ${e}`).join('')}`]);
    return ok('ENABLE completed');
  }

  private async startIdle(cmd: Command): Promise<Reply | undefined> {
    await this.sync(true);
    await this.write(['+ idling\r\n']);
    const view = this.selected;
    let running = false;
    const onChange = () => {
      if (running || this.conn.closed) return;
      running = true;
      this.sync(true)
        .catch((err) => this.log.warn({ err: errorReply(err).text }, 'IDLE update failed'))
        .finally(() => (running = false));
    };
    const stop = view ? this.deps.watcher.watch(view.folder.id, view.highestModseq, onChange) : () => undefined;
    this.idling = { tag: cmd.tag, stop };
    return undefined;
  }

  private async endIdle(frame: Frame): Promise<void> {
    const { tag, stop } = this.idling!;
    this.idling = undefined;
    stop();
    const line = typeof frame.parts[0] === 'string' ? frame.parts[0].trim().toUpperCase() : '';
    if (line !== 'DONE' || frame.parts.length !== 1) return this.reply(tag, bad('Expected DONE to end IDLE'));
    return this.reply(tag, ok('IDLE terminated'));
  }
}

function decodeBase64Text(b64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  return text.includes('\uFFFD') ? undefined : text;
}
