import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** Where tests find PostgreSQL: this machine's server (`.ci/run` installs and starts one when none answers). */
export const POSTGRES_ADMIN_URL = process.env.DOCKET_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway database on the test server, for one test run (or one test that needs a database of its own). */
export class PostgresDatabase {
  readonly name = `docket_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  get url(): string {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async create(): Promise<void> {
    await admin(`CREATE DATABASE ${this.name}`);
  }

  /** Drops the database, ending whatever connection a test left open on it. */
  async drop(): Promise<void> {
    await admin(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
