import type SMTPConnection from 'nodemailer/lib/smtp-connection';

/** An SMTP session kept open between transactions, and what it is good for still. */
export interface CachedSession {
  readonly connection: SMTPConnection;
  /** The MX host name and the address it was opened to (for logs and results). */
  readonly host: string;
  readonly address: string;
  readonly openedAt: number;
  /** Transactions sent on it so far. */
  uses: number;
}

export interface ConnectionCacheOptions {
  /** An idle session is closed after this long (Postfix's smtp_connection_cache_time_limit, 2 s). */
  readonly idleMs: number;
  /** A session is not reused once this old (Postfix's smtp_connection_reuse_time_limit, 300 s). */
  readonly maxAgeMs: number;
  /** Nor after this many transactions (Postfix's smtp_connection_reuse_count_limit; 0 there means none). */
  readonly maxUses: number;
  /** Idle sessions kept per destination. */
  readonly perDestination: number;
}

interface Idle {
  readonly session: CachedSession;
  readonly timer: NodeJS.Timeout;
  /** Drops the session when the remote closes it while idle. */
  readonly gone: () => void;
}

/**
 * Open SMTP sessions to each destination (a domain, or the smarthost), reset (RSET) after
 * a transaction and handed to the next one for the same destination, as Postfix's
 * connection cache does: the next message skips DNS, TCP, TLS and EHLO. A session the
 * remote closes while idle leaves the cache at once.
 */
export class ConnectionCache {
  private readonly idle = new Map<string, Idle[]>();

  constructor(private readonly options: ConnectionCacheOptions) {}

  /** An idle session to `destination`, if one is open and young enough. */
  take(destination: string): CachedSession | undefined {
    const list = this.idle.get(destination);
    while (list?.length) {
      const { session, timer, gone } = list.pop()!;
      clearTimeout(timer);
      session.connection.removeListener('end', gone);
      session.connection.removeListener('error', gone);
      if (list.length === 0) this.idle.delete(destination);
      if (this.usable(session)) return session;
      close(session.connection);
    }
    return undefined;
  }

  /** Keeps a session after its transaction, if it may be reused; otherwise says goodbye (QUIT). */
  give(destination: string, session: CachedSession): void {
    const list = this.idle.get(destination) ?? [];
    if (!this.usable(session) || list.length >= this.options.perDestination) return quit(session.connection);
    const timer = setTimeout(() => this.drop(destination, session, true), this.options.idleMs);
    timer.unref();
    const gone = () => this.drop(destination, session, false);
    session.connection.once('end', gone);
    session.connection.once('error', gone);
    list.push({ session, timer, gone });
    this.idle.set(destination, list);
  }

  private usable(s: CachedSession): boolean {
    return !(s.connection as unknown as { _destroyed: boolean })._destroyed && s.uses < this.options.maxUses && Date.now() - s.openedAt < this.options.maxAgeMs;
  }

  private drop(destination: string, session: CachedSession, politely: boolean): void {
    const list = this.idle.get(destination);
    const i = list?.findIndex((x) => x.session === session) ?? -1;
    if (i < 0) return;
    const { timer, gone } = list![i]!;
    clearTimeout(timer);
    session.connection.removeListener('end', gone);
    session.connection.removeListener('error', gone);
    list!.splice(i, 1);
    if (list!.length === 0) this.idle.delete(destination);
    if (politely) quit(session.connection);
    else close(session.connection);
  }

  /** Says goodbye to every idle session (shutdown). */
  closeAll(): void {
    for (const [destination, list] of [...this.idle]) for (const { session } of [...list]) this.drop(destination, session, true);
  }
}

/** QUIT, and close the socket a second later whatever the remote does. */
export function quit(connection: SMTPConnection): void {
  connection.quit();
  setTimeout(() => connection.close(), 1000).unref();
}

function close(connection: SMTPConnection): void {
  connection.close();
}
