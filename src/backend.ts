import { EventEmitter } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import { ValidationError } from './errors.js';
import { type ConnectionOptions, connect } from './store/connect.js';
import type { PostgresOptions } from './store/postgres/postgres-options.js';
import type { Store } from './store/store.js';

// A registered symbol, not a class check: a second copy of Docket (its CommonJS build loaded by a
// tool's `require('bullmq')` beside the app's ESM import) must recognise this copy's backends.
const BACKEND = Symbol.for('docket.backend');

/**
 * What `getBackend()` answers: BullMQ v6's handle on the datastore behind a Queue, Worker or
 * FlowProducer. Docket's stores are not BullMQ backends (they implement `Store`, not BullMQ's
 * `IQueueBackend`), so this carries only what tools read from one:
 *
 * - `client`: a promise of the ioredis client on the Redis store, as BullMQ's Redis backend has it
 *   (bull-board reads `INFO` through it); undefined on SQLite, as on BullMQ's PostgreSQL backend.
 * - handed back as a `backendFactory` (`new FlowProducer(opts, () => queue.getBackend())`, as
 *   bull-board does to draw a flow), it shares the store instead of opening a connection.
 *
 * An EventEmitter, as BullMQ's backends are: the real BullMQ's FlowProducer, handed one (bull-board
 * installed beside `bullmq` rather than Docket as `bullmq`), subscribes to it and then fails its
 * reads with an error bull-board catches (no flow graph) instead of throwing in its constructor.
 */
export class DocketBackend extends EventEmitter {
  readonly [BACKEND] = true;

  /** @internal */
  constructor(
    readonly store: Store,
    /** `<prefix>:<queue name>` of the owner ('' for a FlowProducer, which spans queues). */
    readonly qualifiedName: string,
    /**
     * @internal A factory made the store for this backend (`createPostgresBackend`,
     * `createRedisBackend`): the instance handed it owns and closes it. From `getBackend()`: shared.
     */
    readonly owned = false,
  ) {
    super();
  }

  /** The Redis store's ioredis client once connected (BullMQ's `backend.client`); undefined on SQLite. */
  get client(): Promise<Redis | Cluster> | undefined {
    const client = this.store.redisClient;
    return client ? this.store.ready().then(() => client) : undefined;
  }
}

/**
 * The backend a `backendFactory` argument answers: only a factory answering a Docket backend (one from
 * `getBackend()`, or a function that calls `createPostgresBackend` / `createRedisBackend`, as BullMQ's
 * own tests wrap them) is accepted, since Docket picks its stores from `connection`; none → undefined.
 */
export function backendOfFactory(backendFactory: unknown, ...args: unknown[]): DocketBackend | undefined {
  if (backendFactory === undefined || backendFactory === null) return undefined;
  const backend = typeof backendFactory === 'function' ? backendFactory(...args) : undefined;
  if (typeof backend === 'object' && backend !== null && (backend as Record<symbol, unknown>)[BACKEND] === true) {
    return backend as DocketBackend;
  }
  throw new ValidationError(
    'Docket takes a backendFactory only as createPostgresBackend, createRedisBackend, a function returning ' +
      'one of their backends, or `() => queue.getBackend()` of another Docket instance: choose the store with the ' +
      '`connection` option (sqlite:…, redis://… or postgres://…)',
  );
}

/** Marks Docket's `createPostgresBackend`, also across two copies of Docket (see BACKEND). */
const POSTGRES_FACTORY = Symbol.for('docket.postgresBackendFactory');

/** The options BullMQ hands a backend factory: those of the Queue, Worker, QueueEvents or FlowProducer. */
export interface PostgresBackendOptions {
  /**
   * A `postgres://` URL, a `pg` pool config (which may carry BullMQ's `schema` and
   * `skipVersionCheck`), or a `pg.Pool`.
   */
  connection?: unknown;
  prefix?: string;
  postgres?: PostgresOptions;
}

/**
 * BullMQ 6.7's factory of its PostgreSQL backend, as Docket takes it. Passed as the last constructor
 * argument, as in BullMQ (`new Queue(name, { connection: 'postgres://…' }, createPostgresBackend)`),
 * it makes the instance use Docket's PostgreSQL store with that `connection`, whatever it looks like
 * (a `{ host, port }` object would otherwise mean Redis). A pool config's `schema` names the schema
 * (Docket's default is `docket`, BullMQ's `bullmq`: Docket does not read BullMQ's tables).
 *
 * Called as BullMQ's queue classes call a factory, `(name, options)`, it answers a Docket backend
 * over a new PostgreSQL store (close it with `backend.store.close()`).
 */
export const createPostgresBackend: ((name: string, opts?: PostgresBackendOptions) => DocketBackend) & {
  readonly [POSTGRES_FACTORY]: true;
} = Object.assign(
  (name: string, opts: PostgresBackendOptions = {}) =>
    new DocketBackend(
      connect({ connection: opts.connection as ConnectionOptions, postgres: opts.postgres, kind: 'postgres' }),
      `${opts.prefix ?? 'bull'}:${name}`,
      true,
    ),
  { [POSTGRES_FACTORY]: true as const },
);

/** Marks Docket's `createRedisBackend`, also across two copies of Docket (see BACKEND). */
const CONNECTION_FACTORY = Symbol.for('docket.connectionBackendFactory');

/**
 * BullMQ v6's default factory (its Redis backend). Docket picks the store from `connection` (a
 * `sqlite:` URL stays SQLite), so as an argument or a default it changes nothing. Called as a
 * factory, `(name, options)`, it answers a Docket backend over a new store of that `connection`.
 */
export const createRedisBackend: ((
  name: string,
  opts?: { connection?: unknown; prefix?: string; blocking?: boolean },
  options?: { blocking?: boolean },
) => DocketBackend) & { readonly [CONNECTION_FACTORY]: true } = Object.assign(
  (name: string, opts: { connection?: unknown; prefix?: string } = {}, options: { blocking?: boolean } = {}) =>
    new DocketBackend(
      connect({ connection: opts.connection as ConnectionOptions, blocking: options.blocking }),
      `${opts.prefix ?? 'bull'}:${name}`,
      true,
    ),
  { [CONNECTION_FACTORY]: true as const },
);

/** Whether `factory` is `createRedisBackend` (of this copy of Docket or another). */
export function isConnectionBackendFactory(factory: unknown): boolean {
  return typeof factory === 'function' && (factory as unknown as Record<symbol, unknown>)[CONNECTION_FACTORY] === true;
}

/** The process-wide default factory (`setDefaultBackendFactory`); undefined: createRedisBackend's behaviour. */
let defaultFactory: unknown;

/**
 * BullMQ v6's `setDefaultBackendFactory`: every Queue, Worker, QueueEvents and FlowProducer made
 * after it without a factory of its own uses `factory` (e.g. `createPostgresBackend`, so each
 * instance's `connection` means PostgreSQL). No argument resets it. Checked when set: a factory
 * Docket cannot take is refused here rather than at the next constructor.
 */
export function setDefaultBackendFactory(factory?: unknown): void {
  if (factory !== undefined && factory !== null && typeof factory !== 'function') {
    throw new ValidationError(`setDefaultBackendFactory takes a backend factory function (got ${typeof factory})`);
  }
  defaultFactory = factory ?? undefined;
}

/** BullMQ v6's `getDefaultBackendFactory`: the factory set, else `createRedisBackend`. */
export function getDefaultBackendFactory(): unknown {
  return defaultFactory ?? createRedisBackend;
}

/** The factory an instance uses: its own argument, else the process-wide default. */
export function effectiveBackendFactory(backendFactory: unknown): unknown {
  return backendFactory ?? defaultFactory;
}

/** Whether `factory` is `createPostgresBackend` (of this copy of Docket or another). */
export function isPostgresBackendFactory(factory: unknown): boolean {
  return typeof factory === 'function' && (factory as unknown as Record<symbol, unknown>)[POSTGRES_FACTORY] === true;
}
