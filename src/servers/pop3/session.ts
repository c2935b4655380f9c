import { plaintextLoginAllowed, type PlaintextLogin } from '../plaintext.js';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../../directory/index.js';
import type { Authenticator } from '../../auth/index.js';
import { loginFailureReply } from './replies.js';
import { TEMP, type Retrieval } from './retrieval.js';
import { listingOf, transaction, type Listing } from './transaction.js';
import { isStoreTimeout, withDeadline, type MaildropLocks, type MailStore } from '../../mailstore/index.js';
import { MAX_COMMAND_LINE, parseCommand, type Pop3Command } from '../../pop3/index.js';
import { decodePlain } from '../../sasl/index.js';
import type { Logger, Metrics } from '../../observability/index.js';

export interface Pop3Options {
  readonly hostname: string;
  readonly idleTimeoutSeconds: number;
  readonly maxUnauthenticatedCommands: number;
  readonly storeTimeoutMs: number;
  readonly plaintextLogin: PlaintextLogin;
  /** Most concurrent connections of the POP3 listeners. */
  readonly maxClients: number;
}

export interface Pop3Deps {
  readonly authenticator: Authenticator;
  readonly mailStore: MailStore;
  /** Whose maildrop a session holds (RFC 1939 §8: exclusive access), on this node or, with a shared store, any. */
  readonly locks: MaildropLocks;
  readonly tls: SecureContext;
  readonly options: Pop3Options;
  readonly log: Logger;
  readonly metrics: Metrics;
}

// Unprocessed pipelined input beyond this is not read until the queue drains.
const MAX_QUEUED = 64 * 1024;

/** One POP3 connection: AUTHORIZATION → TRANSACTION → UPDATE (RFC 1939 §3). */
export class Pop3Session {
  private readonly cid = randomBytes(6).toString('hex');
  private readonly log: Logger;
  private socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private detach: () => void = () => undefined;
  private readonly queue: Buffer[] = [];
  private busy = false;
  private closed = false;
  private unauthenticated = 0;
  private user: string | undefined;
  private account: AccountRecord | undefined;
  private maildrop: Promise<Listing> | undefined;
  private awaitingSasl = false;

  constructor(
    socket: Socket,
    private secure: boolean,
    private readonly deps: Pop3Deps,
  ) {
    this.socket = socket;
    this.log = deps.log.child({ cid: this.cid, remote: socket.remoteAddress });
    deps.metrics.pop3Sessions.inc();
    this.attach(socket);
    this.send(`+OK ${deps.options.hostname} Hikyaku POP3 ready`);
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setTimeout(this.deps.options.idleTimeoutSeconds * 1000);
    const onData = (d: Buffer) => this.onData(d);
    const onTimeout = () => {
      // RFC 1939 §3: the autologout timer closes without entering UPDATE: nothing is deleted.
      this.log.info('idle timeout');
      this.send('-ERR Idle timeout, closing connection');
      this.close();
    };
    const onError = (err: Error) => this.log.debug({ err }, 'socket error');
    const onClose = () => this.onClose();
    socket.on('data', onData).on('timeout', onTimeout).on('error', onError).on('close', onClose);
    this.detach = () => {
      socket.setTimeout(0);
      socket.off('data', onData).off('timeout', onTimeout).off('error', onError).off('close', onClose);
    };
  }

  private onData(data: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    for (;;) {
      const lf = this.buffer.indexOf(0x0a);
      if (lf < 0) break;
      // Lenient: a bare LF ends a line too, as in Dovecot.
      const end = lf > 0 && this.buffer[lf - 1] === 0x0d ? lf - 1 : lf;
      this.queue.push(this.buffer.subarray(0, end));
      this.buffer = this.buffer.subarray(lf + 1);
    }
    if (this.buffer.length > MAX_COMMAND_LINE) {
      this.send('-ERR Line too long');
      this.close();
      return;
    }
    if (this.queue.reduce((n, l) => n + l.length, 0) > MAX_QUEUED) this.socket.pause();
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.handle(this.queue.shift()!);
      }
    } catch (err) {
      this.log.error({ err }, 'session failed');
      this.send('-ERR [SYS/TEMP] Internal error, closing connection');
      this.close();
    } finally {
      this.busy = false;
      if (!this.closed) this.socket.resume();
    }
  }

  private send(line: string): void {
    if (this.closed) return;
    if (line.startsWith('+OK')) this.deps.metrics.countPop3Reply('+OK', '');
    else if (line.startsWith('-ERR')) this.deps.metrics.countPop3Reply('-ERR', /^-ERR \[([A-Z/-]+)\]/.exec(line)?.[1] ?? '');
    this.socket.write(line + '\r\n');
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    if (this.account) this.unlock(this.account.id);
    this.deps.metrics.pop3Sessions.dec();
    this.log.debug('closed');
  }

  private unlock(accountId: number): void {
    this.deps.locks.release(accountId).catch((err) => this.log.warn({ err }, 'maildrop lock not released'));
  }

  private get plaintextAllowed(): boolean {
    return plaintextLoginAllowed(this.deps.options.plaintextLogin, this.secure, this.socket.remoteAddress ?? '');
  }

  private async handle(line: Buffer): Promise<void> {
    if (this.awaitingSasl) {
      this.awaitingSasl = false;
      return this.saslPlain(line.toString('latin1').trim());
    }
    const parsed = parseCommand(line);
    if (!this.account && ++this.unauthenticated > this.deps.options.maxUnauthenticatedCommands) {
      this.log.info('too many commands before login');
      this.send('-ERR Too many commands without logging in, closing connection');
      return this.close();
    }
    if (!parsed.ok) return this.send(`-ERR ${parsed.error}`);
    const cmd = parsed.command;
    if (cmd.keyword === 'QUIT') return this.quit();
    if (cmd.keyword === 'CAPA') return this.capa();
    if (cmd.keyword === 'NOOP' && this.account) return this.send('+OK');
    return this.account ? this.transaction(cmd) : this.authorization(cmd);
  }

  private capa(): void {
    const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'IMPLEMENTATION Hikyaku'];
    if (!this.account && this.plaintextAllowed) caps.push('USER', 'SASL PLAIN');
    if (!this.account && !this.secure) caps.push('STLS');
    this.send('+OK Capability list follows');
    for (const c of caps) this.send(c);
    this.send('.');
  }

  private async authorization(cmd: Pop3Command): Promise<void> {
    switch (cmd.keyword) {
      case 'STLS':
        return this.stls();
      case 'USER':
        if (!this.plaintextAllowed) return this.send('-ERR [AUTH] Plaintext authentication is not allowed without TLS; use STLS');
        if (cmd.args.length !== 1 || !cmd.args[0]) return this.send('-ERR Usage: USER name');
        this.user = cmd.args[0];
        return this.send('+OK Send your password');
      case 'PASS':
        if (!this.plaintextAllowed) return this.send('-ERR [AUTH] Plaintext authentication is not allowed without TLS; use STLS');
        if (this.user === undefined) return this.send('-ERR Send USER first');
        // RFC 1939 §7: the password may contain spaces.
        return this.login(this.user, cmd.args.join(' '));
      case 'AUTH':
        if (cmd.args.length === 0) {
          this.send('+OK Supported SASL mechanisms follow');
          this.send('PLAIN');
          return this.send('.');
        }
        if (cmd.args[0]!.toUpperCase() !== 'PLAIN') return this.send('-ERR Unsupported SASL mechanism; use PLAIN');
        if (!this.plaintextAllowed) return this.send('-ERR [AUTH] Plaintext authentication is not allowed without TLS; use STLS');
        if (cmd.args.length > 2) return this.send('-ERR Usage: AUTH PLAIN [initial-response]');
        if (cmd.args[1] === undefined) {
          this.awaitingSasl = true;
          return this.send('+ ');
        }
        return this.saslPlain(cmd.args[1] === '=' ? '' : cmd.args[1]!);
      case 'APOP':
        return this.send('-ERR APOP is not supported; use USER/PASS or AUTH PLAIN over TLS');
      default:
        return this.send(`-ERR ${cmd.keyword} is not valid before logging in`);
    }
  }

  private async saslPlain(response: string): Promise<void> {
    // RFC 5034 §4: "*" cancels the exchange.
    if (response === '*') return this.send('-ERR Authentication cancelled');
    const creds = decodePlain(response);
    if ('error' in creds) return this.send(`-ERR ${creds.error}`);
    if (creds.authzid && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) return this.send('-ERR [AUTH] Logging in as another user is not allowed');
    return this.login(creds.authcid, creds.password);
  }

  private async stls(): Promise<void> {
    if (this.secure) return this.send('-ERR Already using TLS');
    this.send('+OK Begin TLS negotiation');
    // RFC 2595 §3.1 / CVE-2011-0411: anything pipelined after STLS is discarded.
    this.queue.length = 0;
    this.buffer = Buffer.alloc(0);
    this.detach();
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.deps.tls });
    this.socket = secure;
    this.secure = true;
    this.user = undefined;
    this.attach(secure);
  }

  private async login(username: string, password: string): Promise<void> {
    const result = await this.deps.authenticator.login(username, password, this.socket.remoteAddress ?? '', 'pop3');
    if (!result.ok) {
      this.deps.metrics.logins.inc({ protocol: 'pop3', result: result.reason });
      this.log.info({ user: username, reason: result.reason }, 'login failed');
      return this.send(loginFailureReply(result));
    }
    const account = result.account;
    if (!(await this.deps.locks.acquire(account.id))) {
      this.deps.metrics.logins.inc({ protocol: 'pop3', result: 'in-use' });
      this.log.info({ user: account.address }, 'maildrop in use');
      return this.send('-ERR [IN-USE] The mailbox is in use by another session; try again later');
    }
    // The client may have gone while the lock was taken: then nobody would release it.
    if (this.closed) return this.unlock(account.id);
    this.account = account;
    this.deps.metrics.logins.inc({ protocol: 'pop3', result: 'ok' });
    this.log.info({ user: account.address }, 'logged in');
    // The listing is taken now (messages arriving later are not in this session), but the
    // login does not wait for it: a slow store shows up as [SYS/TEMP] on the next command.
    this.loadMaildrop();
    this.send('+OK Logged in');
  }

  private loadMaildrop(): void {
    const id = this.account!.id;
    const timer = this.deps.metrics.storeReadSeconds.startTimer({ op: 'listing' });
    const load = withDeadline(this.deps.mailStore.maildrop(id), this.deps.options.storeTimeoutMs).then((maildrop) => {
      timer();
      return listingOf(maildrop);
    });
    load.catch(() => undefined);
    this.maildrop = load;
  }

  /** The session's message list; on a slow or failing store, -ERR [SYS/TEMP] and a retry on the next command. */
  private async messages(): Promise<Listing | undefined> {
    try {
      return await this.maildrop!;
    } catch (err) {
      this.log.warn({ err: isStoreTimeout(err) ? 'timeout' : err }, 'maildrop listing failed');
      this.loadMaildrop();
      this.send(`-ERR ${TEMP}`);
      return undefined;
    }
  }

  private async transaction(cmd: Pop3Command): Promise<void> {
    const listing = await this.messages();
    if (!listing) return;
    return transaction(
      { send: (line) => this.send(line), write: (text) => void (this.closed || this.socket.write(text)), queue: this.queue, retrieval: () => this.retrieval() },
      listing,
      cmd,
    );
  }

  /** What retrieval needs of this session, as it is now (the socket changes at STLS). */
  private retrieval(): Retrieval {
    return {
      socket: this.socket,
      closed: () => this.closed,
      accountId: this.account!.id,
      mailStore: this.deps.mailStore,
      storeTimeoutMs: this.deps.options.storeTimeoutMs,
      metrics: this.deps.metrics,
      log: this.log,
      send: (line) => this.send(line),
    };
  }

  private async quit(): Promise<void> {
    if (!this.account || !this.maildrop) {
      this.send(`+OK ${this.deps.options.hostname} Hikyaku POP3 signing off`);
      return this.close();
    }
    // UPDATE state (RFC 1939 §6).
    const listing = await this.maildrop.catch(() => undefined);
    const doomed = (listing?.messages ?? []).filter((m) => m.deleted).map((m) => m.uid);
    let reply = `+OK Signing off (${doomed.length} messages deleted)`;
    try {
      if (doomed.length) await withDeadline(this.deps.mailStore.expunge(this.account.id, doomed), this.deps.options.storeTimeoutMs);
    } catch (err) {
      this.log.warn({ err: isStoreTimeout(err) ? 'timeout' : err }, 'expunge failed');
      reply = `-ERR ${TEMP}; deleted messages are kept`;
    }
    // The lock goes before the answer (RFC 1939 §6): a client that logs in again at once finds the maildrop free.
    const { id } = this.account;
    this.account = undefined;
    await this.deps.locks.release(id).catch((err) => this.log.warn({ err }, 'maildrop lock not released'));
    this.send(reply);
    this.close();
  }
}

