import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type pg from 'pg';
import { ValidationError } from '../errors.js';
import {
  isPostgresConnection,
  isPostgresUrl,
  type PgConnection,
  type PostgresOptions,
} from './postgres/postgres-options.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { isCluster } from './redis/cluster.js';
import { RedisStore } from './redis/redis-store.js';
import type { SqliteOptions } from './sqlite/sqlite-options.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * What `connection` may be: a URL string, ioredis options, or an ioredis instance or Cluster (used
 * as is; on a Cluster each queue's `<prefix>:<name>` needs a `{hash tag}`, docs/compatibility.md),
 * or for PostgreSQL a `pg` pool config or `pg.Pool` (see `isPostgresConnection` for the rule).
 */
export type ConnectionOptions =
  | string
  | (RedisOptions & {
      /** a redis:// or rediss:// URL, as BullMQ takes it (the other options apply on top) */ url?: string;
    })
  | Redis
  | Cluster
  | pg.PoolConfig
  | pg.Pool;

/** BullMQ's name for the Redis client a queue talks to: an ioredis `Redis` or `Cluster`. */
export type RedisClient = Redis | Cluster;

export const DEFAULT_SQLITE_FILE = './docket.db';

/**
 * Options of the ioredis clients Docket creates. ioredis resends a command whose reply was lost
 * with its connection (so an add may be stored twice: docs/guarantees.md); turning that off makes
 * ioredis drop such commands without ever settling their promises, which is worse.
 */
const OWN_CLIENT: RedisOptions = {
  // close() waits for QUIT's 'end' itself; a disconnect (closing while not connected) needs no grace
  // period, which ioredis would spend with a timer that keeps the process alive (a CLI took 4 s to exit).
  disconnectTimeout: 0,
};

/**
 * Connection attempts a call of a Queue or FlowProducer waits through before it fails (ioredis's
 * `maxRetriesPerRequest`, unless the options set it): with ioredis's backoff about 2 s, so a wrong
 * URL fails fast. Workers and QueueEvents wait for as long as it takes (null), as in BullMQ.
 */
const OWN_RETRIES = 5;

export interface ConnectOptions {
  connection?: ConnectionOptions;
  sqlite?: SqliteOptions;
  postgres?: PostgresOptions;
  /** 'postgres': chosen by `createPostgresBackend`, whatever the connection looks like. */
  kind?: 'postgres';
  /** Workers block on the connection: ioredis must retry requests forever. */
  blocking?: boolean;
}

function isRedisInstance(value: unknown): value is Redis | Cluster {
  return (
    value instanceof Redis || (typeof value === 'object' && value !== null && 'duplicate' in value && 'status' in value)
  );
}

/** DESIGN.md's table: the `connection` option → a store. */
export function connect(opts: ConnectOptions, warn: (msg: string) => void = console.warn): Store {
  const connection = opts.connection ?? process.env.DOCKET_URL ?? `sqlite:${DEFAULT_SQLITE_FILE}`;
  if (opts.kind === 'postgres') {
    if (typeof connection === 'string' && !isPostgresUrl(connection)) {
      throw new ValidationError(
        `createPostgresBackend needs a postgres:// or postgresql:// URL, a pg pool config or a pg.Pool (got "${redactUrl(connection)}")`,
      );
    }
    return new PostgresStore(connection as PgConnection, opts.postgres);
  }
  if (typeof connection === 'string' && isPostgresUrl(connection)) return new PostgresStore(connection, opts.postgres);
  if (typeof connection === 'object' && !isRedisInstance(connection) && isPostgresConnection(connection)) {
    return new PostgresStore(connection, opts.postgres);
  }
  if (typeof connection === 'string') {
    if (connection.startsWith('sqlite:')) {
      const path = connection.slice('sqlite:'.length);
      if (!path)
        throw new ValidationError('connection "sqlite:" needs a path, e.g. "sqlite:./docket.db" or "sqlite::memory:"');
      return new SqliteStore(path, opts.sqlite);
    }
    if (connection.startsWith('redis://') || connection.startsWith('rediss://')) {
      return new RedisStore(
        new Redis(connection, { ...OWN_CLIENT, maxRetriesPerRequest: opts.blocking ? null : OWN_RETRIES }),
        {
          ownsClient: true,
        },
      );
    }
    throw new ValidationError(
      `connection "${redactUrl(connection)}" is neither a sqlite:, a redis:// / rediss:// nor a postgres:// URL`,
    );
  }
  if (isRedisInstance(connection)) {
    // As BullMQ: a client of the user's that prefixes keys itself is refused (the queue's `prefix` names keys).
    if (keyPrefixOf(connection)) throw new ValidationError(KEY_PREFIX_REFUSAL);
    if (opts.blocking && maxRetriesPerRequest(connection) !== null) {
      warn('Docket: a worker was given an ioredis instance whose maxRetriesPerRequest is not null; set it to null.');
    }
    return new RedisStore(connection, { ownsClient: false });
  }
  if (typeof connection === 'object' && connection !== null) {
    // BullMQ takes `url` among the ioredis options (ioredis itself ignores it: it would go to localhost).
    const { url, ...given } = connection as RedisOptions & { url?: unknown };
    if (url !== undefined && typeof url !== 'string') {
      throw new ValidationError(`connection.url must be a redis:// or rediss:// URL string (got ${typeof url})`);
    }
    const options: RedisOptions = { ...OWN_CLIENT, maxRetriesPerRequest: OWN_RETRIES, ...given };
    if (opts.blocking) options.maxRetriesPerRequest = null;
    return new RedisStore(url ? new Redis(url, options) : new Redis(options), { ownsClient: true });
  }
  throw new ValidationError(
    'connection must be a URL string, ioredis options or an ioredis instance, or a pg pool config or pg.Pool',
  );
}

/** BullMQ's text, word for word: code written for BullMQ may look for it. */
const KEY_PREFIX_REFUSAL = 'BullMQ: ioredis does not support ioredis prefixes, use the prefix option instead.';

function keyPrefixOf(client: Redis | Cluster): string | undefined {
  return client.options.keyPrefix || (isCluster(client) ? client.options.redisOptions?.keyPrefix : undefined);
}

/** A Cluster keeps the options of its node connections under `redisOptions`. */
function maxRetriesPerRequest(client: Redis | Cluster): number | null | undefined {
  return isCluster(client) ? client.options.redisOptions?.maxRetriesPerRequest : client.options.maxRetriesPerRequest;
}

/**
 * BullMQ v6's adapter for an ioredis client. Docket talks to ioredis directly, so the client is
 * used as is: `connection: createIORedisClient(redis)` equals `connection: redis`.
 */
export function createIORedisClient(client: Redis): Redis {
  return client;
}

/** Hides the password of a URL so it never reaches an error or a log. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/{0,2})[^@/]*@/i, '$1***@');
}
