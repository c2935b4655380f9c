import pg from 'pg';
import type { MaildropLocks } from '../../mailstore/index.js';
import { parseStoreUrl } from './pool.js';

const RETRY_MS = 5000;

/**
 * POP3 maildrop locks across nodes: PostgreSQL advisory locks held by one connection of
 * this process, so a node that dies (or loses its connection) gives its locks back by
 * itself. Within the process a set answers first. When the database does not answer
 * within `timeoutMs`, a session holds only this node's lock (logins keep working,
 * principle 4); after a reconnect the node takes its sessions' locks again.
 */
export class PgMaildropLocks implements MaildropLocks {
  /** The sessions of this process that hold a maildrop. */
  private readonly held = new Set<number>();
  /** Those whose lock the current connection holds in PostgreSQL. */
  private locked = new Set<number>();
  private current: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly connectionString: string;
  private readonly namespace: string;
  /** After a failure the database is left alone this long: a sick one costs one login the deadline, not every one. */
  private tryAgainAt = 0;

  constructor(
    url: string,
    private readonly timeoutMs = 1000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    const { connectionString, schema } = parseStoreUrl(url);
    this.connectionString = connectionString;
    this.namespace = `${schema}:pop3:`;
  }

  async acquire(accountId: number): Promise<boolean> {
    if (this.held.has(accountId)) return false;
    this.held.add(accountId);
    if (Date.now() < this.tryAgainAt) return true;
    try {
      if (await this.lock(accountId)) return true;
      this.held.delete(accountId);
      return false;
    } catch (err) {
      if (this.tryAgainAt === 0) this.onError(err);
      this.tryAgainAt = Date.now() + RETRY_MS;
      return true;
    }
  }

  async release(accountId: number): Promise<void> {
    if (!this.held.delete(accountId) || !this.locked.delete(accountId)) return;
    // A connection that is gone has given the lock back already.
    await this.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [this.namespace + accountId]).catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    await c?.end().catch(() => undefined);
  }

  private async lock(accountId: number): Promise<boolean> {
    // Connected first: a new connection takes the held sessions' locks, this one's included.
    await this.connection();
    if (this.locked.has(accountId)) return true;
    const r = await this.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [this.namespace + accountId]);
    const ok = (r.rows[0] as { ok: boolean }).ok;
    if (ok) this.locked.add(accountId);
    this.tryAgainAt = 0;
    return ok;
  }

  private async query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const client = await this.connection();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        client.query(text, values),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the lock database did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      // A connection in doubt is dropped (and its locks with it): the next call starts clean.
      this.drop(client);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private connection(): Promise<pg.Client> {
    if (this.current) return Promise.resolve(this.current);
    this.connecting ??= (async () => {
      const c = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: this.timeoutMs, keepAlive: true });
      c.on('error', () => this.drop(c));
      try {
        await c.connect();
        // Sessions that hold a maildrop here take its lock again (if another node took it meanwhile, that one keeps it).
        for (const id of this.held) {
          const r = await c.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [this.namespace + id]);
          if ((r.rows[0] as { ok: boolean }).ok) this.locked.add(id);
        }
        this.current = c;
        return c;
      } catch (err) {
        void c.end().catch(() => undefined);
        throw err;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private drop(client: pg.Client): void {
    if (this.current !== client) return;
    this.current = undefined;
    this.locked = new Set();
    void client.end().catch(() => undefined);
  }
}
