/**
 * The PostgreSQL side of the benchmark: each measurement of a PostgreSQL system gets an empty
 * database of its own (as Redis is flushed and SQLite gets a fresh file), on the server at
 * DOCKET_BENCH_PG (default: this machine's, postgres://postgres@127.0.0.1:5432).
 */
import pg from 'pg';

const SERVER = process.env.DOCKET_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `docket_bench_${process.pid}`;

function url(database: string): string {
  const u = new URL(SERVER);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The server's version, or undefined when nothing answers (the PostgreSQL systems are then skipped). */
export async function postgresVersion(): Promise<string | undefined> {
  try {
    return await onServer(async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string);
  } catch {
    return undefined;
  }
}

/** Drops the previous measurement's database and makes an empty one; returns its URL. */
export async function freshDatabase(): Promise<string> {
  await onServer(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DATABASE}`);
  });
  return url(DATABASE);
}

export async function dropDatabase(): Promise<void> {
  await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)).catch(() => undefined);
}
