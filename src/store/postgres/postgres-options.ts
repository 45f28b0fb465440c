import type pg from 'pg';
import { ValidationError } from '../../errors.js';

/** What selects the PostgreSQL store: a URL, a `pg` pool config, or a `pg.Pool`. */
export type PgConnection = string | pg.PoolConfig | pg.Pool;

/** The `postgres` option of Queue, Worker, QueueEvents and FlowProducer. */
export interface PostgresOptions {
  /**
   * The schema holding Docket's tables (created on first use); default `docket`, or the
   * connection URL's `?schema=` parameter. Two schemas in one database are two separate stores.
   */
  schema?: string;
  /**
   * `false`: Docket's commits return before PostgreSQL flushed them to disk (`synchronous_commit =
   * off` on the pool Docket opens), which makes an add or a move one disk flush faster. The price: a
   * crash of the server (not a clean restart) may lose the transitions of its last moments (up to
   * three `wal_writer_delay`s, 600 ms by default); nothing is corrupted. Default `true`. For a
   * `pg.Pool` you pass in, set it on that pool (`options: '-c synchronous_commit=off'`).
   */
  synchronousCommit?: boolean;
}

export const DEFAULT_PG_SCHEMA = 'docket';

/** Whether a `connection` string names PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/**
 * Keys only `pg`'s pool config has (ioredis options have none of them): an object with one of
 * these and none of ioredis's own keys selects PostgreSQL; an object with both is refused as
 * ambiguous. `host`, `port`, `password` and `user`/`username`-like keys are common to both.
 */
const PG_ONLY_KEYS = [
  'connectionString',
  'schema',
  'database',
  'user',
  'max',
  'idleTimeoutMillis',
  'connectionTimeoutMillis',
  'statement_timeout',
  'ssl',
  'application_name',
];
const REDIS_ONLY_KEYS = ['db', 'maxRetriesPerRequest', 'enableReadyCheck', 'sentinels', 'tls', 'keyPrefix', 'family'];

/**
 * A `pg.Pool`, told by its shape rather than `instanceof`: checking the class would load `pg` for
 * every user (driver.ts), and a Pool of another copy of `pg` is a Pool too.
 */
export function isPool(value: unknown): value is pg.Pool {
  return (
    typeof value === 'object' &&
    value !== null &&
    'totalCount' in value &&
    'idleCount' in value &&
    typeof (value as pg.Pool).connect === 'function'
  );
}

/** True for a `pg.Pool` instance or a `pg` pool config (see PG_ONLY_KEYS). */
export function isPostgresConnection(value: unknown): value is pg.Pool | pg.PoolConfig {
  if (isPool(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  const pgKey = keys.some((k) => PG_ONLY_KEYS.includes(k));
  if (!pgKey) return false;
  const redisKey = keys.find((k) => REDIS_ONLY_KEYS.includes(k));
  if (redisKey) {
    throw new ValidationError(
      `connection has both pg keys and the ioredis key "${redisKey}": pass a postgres:// URL or a pg.Pool for PostgreSQL, or drop the pg keys for Redis`,
    );
  }
  return true;
}

/** The connection pg gets and the schema, from a URL's `?schema=` (removed: pg does not know it) or the option. */
export function postgresTarget(
  connection: PgConnection,
  opts: PostgresOptions = {},
): {
  connection: PgConnection;
  schema: string;
  synchronousCommit: boolean;
} {
  let schema = opts.schema;
  if (typeof connection === 'string') {
    const url = new URL(connection);
    const fromUrl = url.searchParams.get('schema');
    if (fromUrl !== null) {
      url.searchParams.delete('schema');
      connection = url.toString();
      schema ??= fromUrl;
    }
  } else if (!isPool(connection) && ('schema' in connection || 'skipVersionCheck' in connection)) {
    // BullMQ's PostgresPoolConfig carries its own keys beside pg's: Docket reads `schema`, pg gets the rest.
    const {
      schema: fromConfig,
      skipVersionCheck: _skip,
      ...rest
    } = connection as pg.PoolConfig & {
      schema?: string;
      skipVersionCheck?: boolean;
    };
    connection = rest;
    schema ??= fromConfig;
  }
  schema ??= DEFAULT_PG_SCHEMA;
  if (schema.length === 0 || schema.length > 63) {
    throw new ValidationError(`postgres.schema must be 1 to 63 characters (got ${JSON.stringify(schema)})`);
  }
  const synchronousCommit = opts.synchronousCommit ?? true;
  if (typeof synchronousCommit !== 'boolean') {
    throw new ValidationError(
      `postgres.synchronousCommit must be true or false (got ${JSON.stringify(synchronousCommit)})`,
    );
  }
  if (!synchronousCommit && isPool(connection)) {
    throw new ValidationError(
      "postgres.synchronousCommit: false applies to the pool Docket opens; for your own pg.Pool set it there (options: '-c synchronous_commit=off')",
    );
  }
  return { connection, schema, synchronousCommit };
}
