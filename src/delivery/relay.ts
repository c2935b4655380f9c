import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from '../observability/index.js';
import { ConnectionCache, quit, type CachedSession } from './connection-cache.js';

// Postfix's limits on reusing a session: 300 s old at most; and (ours) 100 transactions.
const REUSE_MAX_AGE_MS = 300_000;
const REUSE_MAX_USES = 100;

/** The DNS questions relay asks (a subset of node:dns/promises' Resolver, so tests can point it anywhere). */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface RelayOptions {
  /** Name in EHLO. */
  readonly hostname: string;
  /** Port of remote MX hosts (25; tests use another). */
  readonly port: number;
  /** `host:port` that receives everything instead of the MX hosts; empty: none. */
  readonly smarthost: string;
  readonly smarthostUser: string;
  readonly smarthostPassword: string;
  /** PEM of the CA(s) the smarthost's certificate is checked against; undefined: the system's. */
  readonly smarthostCa?: Buffer;
  readonly maxConnectionsPerDestination: number;
  readonly connectTimeoutMs: number;
  /** Longest wait for any one reply, including the one after the final dot. */
  readonly replyTimeoutMs: number;
  /** How long a session stays open for the next message to the same destination; 0: one transaction per connection. */
  readonly connectionCacheMs: number;
}

/** One message to one destination domain. */
export interface RelayJob {
  readonly domain: string;
  readonly mailFrom: string;
  readonly rcpts: readonly string[];
  readonly size: number;
  /** The message as it is sent (opened once per transaction attempt). */
  readonly openMessage: () => Readable;
}

export type RcptStatus = 'sent' | 'temporary' | 'permanent';

export interface RcptResult {
  readonly rcpt: string;
  readonly status: RcptStatus;
  /** RFC 3463 code: the remote's, or ours for DNS and connection failures. */
  readonly enhanced: string;
  /** One line for logs, queue listings and DSNs. */
  readonly reply: string;
  /** The MX host that answered, if one did. */
  readonly remoteMta?: string;
}

interface SmtpFailure extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpFailure[];
}

interface SendInfo {
  accepted: string[];
  rejectedErrors?: SmtpFailure[];
  response: string;
}

/** A whole-destination failure before any transaction: DNS, or no host reachable. */
class DestinationFailure {
  constructor(
    readonly temporary: boolean,
    readonly enhanced: string,
    readonly reply: string,
  ) {}
}

const ENHANCED = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

function statusOf(code: number | undefined, response: string | undefined, fallbackTemporary: boolean): { status: RcptStatus; enhanced: string; reply: string } {
  const reply = (response ?? '').replace(/\s+/g, ' ').trim() || 'connection lost during the transaction';
  const temporary = code === undefined ? fallbackTemporary : code < 500;
  const enhanced = ENHANCED.exec(reply)?.[1] ?? (temporary ? '4.0.0' : '5.0.0');
  return { status: temporary ? 'temporary' : 'permanent', enhanced, reply };
}

/** Counts connections per destination and makes the excess wait (Postfix's destination concurrency limit). */
class DestinationLimits {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly max: number) {}

  async acquire(key: string): Promise<() => void> {
    const n = this.active.get(key) ?? 0;
    if (n >= this.max) {
      await new Promise<void>((resolve) => {
        const q = this.waiting.get(key) ?? [];
        q.push(resolve);
        this.waiting.set(key, q);
      });
    } else {
      this.active.set(key, n + 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(key)?.shift();
      if (next) return next(); // the slot passes straight to the next waiter
      const left = (this.active.get(key) ?? 1) - 1;
      if (left === 0) this.active.delete(key);
      else this.active.set(key, left);
    };
  }
}

/**
 * Outbound SMTP (RFC 5321 §5.1): finds the destination's MX hosts (implicit MX on a
 * domain without MX records; RFC 7505 null MX refused), tries them by preference and
 * their addresses in turn until one takes the transaction, uses STARTTLS when offered
 * (opportunistic, as MTAs do: certificates are not checked), and sends all recipients
 * of one domain in one transaction. Reports each recipient's outcome; it never retries
 * by itself (the queue does).
 */
export class SmtpRelay {
  private readonly limits: DestinationLimits;
  private readonly cache: ConnectionCache;

  constructor(
    private readonly resolver: MxResolver,
    private readonly options: RelayOptions,
    private readonly log: Logger,
  ) {
    this.limits = new DestinationLimits(options.maxConnectionsPerDestination);
    this.cache = new ConnectionCache({ idleMs: options.connectionCacheMs, maxAgeMs: REUSE_MAX_AGE_MS, maxUses: options.connectionCacheMs > 0 ? REUSE_MAX_USES : 0, perDestination: options.maxConnectionsPerDestination });
  }

  /** Closes the sessions kept for reuse. */
  close(): void {
    this.cache.closeAll();
  }

  async send(job: RelayJob): Promise<RcptResult[]> {
    const all = (f: { status: RcptStatus; enhanced: string; reply: string }, remoteMta?: string) => job.rcpts.map((rcpt) => ({ rcpt, ...f, remoteMta }));
    const destination = this.options.smarthost || job.domain;
    const release = await this.limits.acquire(destination);
    try {
      // A kept session is asked RSET first: it ends whatever the last transaction left and
      // shows the session is alive, before any of this message is sent (else a new one opens).
      for (let cached = this.cache.take(destination); cached; cached = this.cache.take(destination)) {
        const alive = await new Promise<boolean>((resolve) => cached!.connection.reset((err: Error | null) => resolve(!err)));
        if (alive) return await this.sendOn(cached, job, destination);
        cached.connection.close();
      }
      const hosts = await this.hosts(job.domain);
      let last: DestinationFailure = new DestinationFailure(true, '4.4.1', 'no MX host could be reached');
      for (const host of hosts) {
        let addresses: string[];
        try {
          addresses = await this.addresses(host.name);
        } catch (err) {
          last = err instanceof DestinationFailure ? err : new DestinationFailure(true, '4.4.3', `cannot resolve ${host.name}`);
          continue;
        }
        for (const address of addresses) {
          const outcome = await this.transaction(job, host.name, address, host.port, destination);
          if (outcome instanceof DestinationFailure) {
            last = outcome;
            continue;
          }
          return outcome;
        }
      }
      return all({ status: last.temporary ? 'temporary' : 'permanent', enhanced: last.enhanced, reply: last.reply });
    } catch (err) {
      if (!(err instanceof DestinationFailure)) throw err;
      return all({ status: err.temporary ? 'temporary' : 'permanent', enhanced: err.enhanced, reply: err.reply });
    } finally {
      release();
    }
  }

  /** MX hosts in order of preference, equal preferences shuffled (RFC 5321 §5.1). */
  private async hosts(domain: string): Promise<{ name: string; port: number }[]> {
    if (this.options.smarthost) {
      const i = this.options.smarthost.lastIndexOf(':');
      return [{ name: this.options.smarthost.slice(0, i), port: Number(this.options.smarthost.slice(i + 1)) }];
    }
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.resolver.resolveMx(domain);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // RFC 5321 §5.1: no MX records: the domain itself is the host (implicit MX).
      if (code === 'ENODATA') return [{ name: domain, port: this.options.port }];
      if (code === 'ENOTFOUND') throw new DestinationFailure(false, '5.1.2', `domain ${domain} does not exist (DNS: NXDOMAIN)`);
      throw new DestinationFailure(true, '4.4.3', `DNS lookup of the MX of ${domain} failed (${code ?? 'error'})`);
    }
    // RFC 7505: a single MX "." means the domain accepts no mail.
    if (records.length === 0 || records.some((r) => r.exchange === '' || r.exchange === '.')) {
      throw new DestinationFailure(false, '5.1.10', `domain ${domain} accepts no mail (null MX, RFC 7505)`);
    }
    return records
      .map((r) => ({ ...r, tiebreak: Math.random() }))
      .sort((a, b) => a.priority - b.priority || a.tiebreak - b.tiebreak)
      .map((r) => ({ name: r.exchange.replace(/\.$/, ''), port: this.options.port }));
  }

  private async addresses(host: string): Promise<string[]> {
    if (isIP(host)) return [host];
    const found = await Promise.allSettled([this.resolver.resolve4(host), this.resolver.resolve6(host)]);
    const list = found.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    if (list.length > 0) return list;
    const codes = found.map((r) => (r.status === 'rejected' ? (r.reason as NodeJS.ErrnoException).code : 'ENODATA'));
    if (codes.every((c) => c === 'ENOTFOUND' || c === 'ENODATA')) throw new DestinationFailure(true, '4.4.4', `MX host ${host} has no address`);
    throw new DestinationFailure(true, '4.4.3', `cannot resolve MX host ${host} (${codes.join(', ')})`);
  }

  /**
   * One SMTP session to one address. Failing to connect, or a greeting that is not 220,
   * is a DestinationFailure (the next host is tried); once MAIL FROM is under way, the
   * per-recipient outcome is final for this attempt.
   */
  private async transaction(job: RelayJob, host: string, address: string, port: number, destination: string): Promise<RcptResult[] | DestinationFailure> {
    // A password travels only over TLS whose certificate checks out (STARTTLS required); MX
    // hosts get opportunistic TLS without checks, as MTAs do (RFC 7435).
    const auth = Boolean(this.options.smarthost && this.options.smarthostUser);
    const connection = new SMTPConnection({
      host: address,
      port,
      name: this.options.hostname,
      opportunisticTLS: !auth,
      requireTLS: auth,
      tls: auth ? { rejectUnauthorized: true, ca: this.options.smarthostCa, servername: isIP(host) ? undefined : host } : { rejectUnauthorized: false, servername: isIP(host) ? undefined : host },
      connectionTimeout: this.options.connectTimeoutMs,
      greetingTimeout: this.options.replyTimeoutMs,
      socketTimeout: this.options.replyTimeoutMs,
    });
    const log = this.log.child({ domain: job.domain, mx: host, address });
    connection.on('error', (err: Error) => log.debug({ err }, 'relay connection error'));
    try {
      // nodemailer reports a failed connect as an 'error' event, not through the callback.
      await new Promise<void>((resolve, reject) => {
        connection.once('error', reject);
        connection.connect((err?: Error) => (err ? reject(err) : resolve()));
      });
      if (this.options.smarthostUser) {
        await new Promise<void>((resolve, reject) =>
          connection.login({ user: this.options.smarthostUser, pass: this.options.smarthostPassword }, (err: Error | null) => (err ? reject(err) : resolve())),
        );
      }
    } catch (err) {
      quit(connection);
      const e = err as SmtpFailure;
      const reply = e.response ? e.response.replace(/\s+/g, ' ') : `${e.code ?? 'error'}: ${e.message}`;
      log.info({ err: reply }, 'cannot open an SMTP session; trying the next host');
      return new DestinationFailure(true, '4.4.1', `${host}[${address}]: ${reply}`);
    }
    return this.sendOn({ connection, host, address, openedAt: Date.now(), uses: 0 }, job, destination);
  }

  /** One transaction on an open session; then the session is kept for the next message to the destination, or closed. */
  private async sendOn(session: CachedSession, job: RelayJob, destination: string): Promise<RcptResult[]> {
    const { connection } = session;
    const info = await new Promise<SendInfo | SmtpFailure>((resolve) =>
      connection.send({ from: job.mailFrom, to: [...job.rcpts], size: job.size, use8BitMime: true } as never, job.openMessage(), (err: Error | null, result?: unknown) =>
        resolve(err ? (err as SmtpFailure) : (result as SendInfo)),
      ),
    );
    session.uses++;
    // A session that lost its connection (no reply) is closed; any other is kept for reuse.
    if (info instanceof Error && info.responseCode === undefined) connection.close();
    else if (this.options.connectionCacheMs > 0) this.cache.give(destination, session);
    else quit(connection);
    return this.results(job, info, session.host);
  }

  private results(job: RelayJob, info: SendInfo | SmtpFailure, host: string): RcptResult[] {
    const rejected = new Map<string, SmtpFailure>();
    for (const e of info.rejectedErrors ?? []) if (e.recipient) rejected.set(e.recipient, e);
    if (info instanceof Error) {
      // A failure of MAIL FROM or DATA applies to every recipient not rejected on its own;
      // a lost connection (no reply) is temporary: the remote may not have the message.
      const whole = statusOf(info.responseCode, info.response, true);
      return job.rcpts.map((rcpt) => {
        const own = rejected.get(rcpt);
        return { rcpt, remoteMta: host, ...(own ? statusOf(own.responseCode, own.response, true) : whole) };
      });
    }
    return job.rcpts.map((rcpt) => {
      const own = rejected.get(rcpt);
      if (own) return { rcpt, remoteMta: host, ...statusOf(own.responseCode, own.response, true) };
      return { rcpt, remoteMta: host, status: 'sent' as const, enhanced: '2.0.0', reply: info.response.replace(/\s+/g, ' ') };
    });
  }
}
