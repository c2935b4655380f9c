/**
 * PostgreSQL connections for the postgres backend: a pg pool per store with limits and
 * timeouts (a sick database makes calls fail, not hang), Kysely over it as the query
 * layer, and versioned migrations that several nodes may run at once.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';

export interface PgOptions {
  /** Most connections this store holds. */
  readonly max?: number;
  /** A statement running longer is cancelled by the server (ms). */
  readonly statementTimeoutMs?: number;
  /** Waiting longer for a connection (from the pool or a new one) fails (ms). */
  readonly connectTimeoutMs?: number;
}

// int8 (counts, ids, ms timestamps) as numbers: every value we keep fits in 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Splits a store URL into the connection string and the schema its tables live in (`?schema=`, default public). */
export function parseStoreUrl(url: string): { connectionString: string; schema: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema must be a plain lower-case SQL name, got "${schema}"`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

export function openPool(url: string, options: PgOptions = {}): { pool: pg.Pool; db: Kysely<any>; schema: string } {
  const { connectionString, schema } = parseStoreUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    options: `-c search_path=${schema}`,
    types,
  });
  // A connection that breaks while idle (the server restarted) is dropped, not thrown; one
  // that breaks while in use fails its query, and its 'error' event must not crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), schema };
}

/**
 * Applies `migrations[version…]` of `store` in one transaction under an advisory lock of
 * the schema, so nodes (and a node's stores) starting together apply each step once.
 */
export async function migrate(db: Kysely<any>, schema: string, store: string, migrations: readonly string[]): Promise<{ from: number; to: number }> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`hikyaku:${schema}`}))`.execute(tx);
    await sql.raw(`CREATE SCHEMA IF NOT EXISTS ${schema}`).execute(tx);
    await sql.raw(`CREATE TABLE IF NOT EXISTS ${schema}.hikyaku_migrations (store TEXT PRIMARY KEY, version INTEGER NOT NULL)`).execute(tx);
    const row = await sql<{ version: number }>`SELECT version FROM hikyaku_migrations WHERE store = ${store}`.execute(tx);
    const from = row.rows[0]?.version ?? 0;
    for (let v = from; v < migrations.length; v++) await sql.raw(migrations[v]!).execute(tx);
    if (from < migrations.length) {
      await sql`INSERT INTO hikyaku_migrations (store, version) VALUES (${store}, ${migrations.length}) ON CONFLICT (store) DO UPDATE SET version = excluded.version`.execute(tx);
    }
    return { from, to: migrations.length };
  });
}

/** A store on its own pool: migrated at open (the first call waits for it, and fails if it failed). */
export class PgStore {
  protected readonly db: Kysely<any>;
  protected readonly schema: string;
  private readonly ready: Promise<{ from: number; to: number }>;

  constructor(
    protected readonly url: string,
    options: PgOptions,
    store: string,
    migrations: readonly string[],
  ) {
    const opened = openPool(url, options);
    this.db = opened.db;
    this.schema = opened.schema;
    this.ready = migrate(opened.db, opened.schema, store, migrations);
    // A failed migration is reported by the first call; this keeps it from being unhandled meanwhile.
    this.ready.catch(() => undefined);
  }

  /** The schema's versions before and after this process's migration (`hikyaku db migrate`). */
  migrated(): Promise<{ from: number; to: number }> {
    return this.ready;
  }

  /** The database once the schema is current. */
  protected async conn(): Promise<Kysely<any>> {
    await this.ready;
    return this.db;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.db.destroy();
  }
}

/**
 * Follows NOTIFY on `channel` over a connection of its own: `onEvent` for each notification,
 * and once more after every reconnect (what was sent while it was away is lost, so the
 * follower reloads). A broken connection is retried with backoff up to 5 s. Returns a stop.
 */
export function listen(url: string, channel: string, onEvent: () => void, onBroken?: (err: Error) => void): () => Promise<void> {
  const { connectionString } = parseStoreUrl(url);
  let client: pg.Client | undefined;
  let stopped = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | undefined;
  const connect = async (again: boolean) => {
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5000, keepAlive: true });
    client = c;
    let broken = false;
    const lost = (err: Error) => {
      if (broken || stopped) return;
      broken = true;
      onBroken?.(err);
      void c.end().catch(() => undefined);
      timer = setTimeout(() => void connect(true), retryMs);
      timer.unref();
      retryMs = Math.min(5000, retryMs * 2);
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error('the notification connection closed')));
    c.on('notification', () => onEvent());
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      retryMs = 250;
      if (again) onEvent();
    } catch (err) {
      lost(err as Error);
    }
  };
  void connect(false);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await client?.end().catch(() => undefined);
  };
}

/** A NOTIFY channel of `topic` in `schema` (one database may hold several installations' schemas). */
export const channelOf = (topic: string, schema: string) => `hikyaku_${topic}_${schema}`.slice(0, 63);

/** Drops the schema of a store URL with every table in it (a rehearsal's installation, when it is over). */
export async function dropSchema(url: string): Promise<void> {
  const { pool, schema } = openPool(url, { max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}
