import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests use (this machine's, trust auth; .ci/run starts it when it is not running). */
export const TEST_PG_URL = process.env.HIKYAKU_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A store URL on a schema of its own (named after `key`, or random), so tests never meet each other's rows. */
export function pgStoreUrl(key = randomBytes(6).toString('hex')): { url: string; schema: string } {
  const schema = `t_${key.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 63);
  return { url: `${TEST_PG_URL}?schema=${schema}`, schema };
}

/** Drops the schemas (and every table in them). */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await client.end();
  }
}
