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
  // A connection that breaks while idle (the server restarted) is dropped, not thrown.
  pool.on('error', () => undefined);
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
