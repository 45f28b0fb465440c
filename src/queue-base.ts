import { EventEmitter, setMaxListeners } from 'node:events';
import {
  backendOfFactory,
  DocketBackend,
  effectiveBackendFactory,
  isConnectionBackendFactory,
  isPostgresBackendFactory,
} from './backend.js';
import { ConnectionClosedError, ValidationError } from './errors.js';
import { validatePrefix, validateQueueName } from './options/validate.js';
import { type ConnectionOptions, connect } from './store/connect.js';
import type { PostgresOptions } from './store/postgres/postgres-options.js';
import type { SqliteOptions } from './store/sqlite/sqlite-options.js';
import type { Store } from './store/store.js';
import type { SpanKind, Telemetry } from './telemetry/interface.js';
import { type SpanScope, trace } from './telemetry/trace.js';

export interface QueueBaseOptions {
  /** Where the queue lives: see README "Choosing a store". Defaults to DOCKET_URL, else `sqlite:./docket.db`. */
  connection?: ConnectionOptions;
  /** Key prefix (Redis) / namespace (SQLite); default `bull`, as in BullMQ. */
  prefix?: string;
  /** SQLite settings (`synchronous: 'FULL'` to survive power loss). */
  sqlite?: SqliteOptions;
  /** PostgreSQL settings: the schema holding Docket's tables (default `docket`). */
  postgres?: PostgresOptions;
  skipVersionCheck?: boolean;
  skipWaitingForReady?: boolean;
  /**
   * BullMQ's telemetry: spans (and metrics) with BullMQ's names and attributes through a `Telemetry`
   * implementation such as `new BullMQOtel(...)` from `bullmq-otel`. Without it Docket traces through
   * `@opentelemetry/api` on its own when that is installed (docs/tools.md).
   */
  telemetry?: Telemetry;
}

/** Set on options by `withBackendFactory`: the store kind a backend factory chose. */
const STORE_KIND = Symbol('docket.storeKind');

/** Set on options by `withBackendFactory`: a factory to call with the instance's name (a wrapper). */
const GIVEN_FACTORY = Symbol('docket.backendFactory');

/**
 * BullMQ v6's `backendFactory` argument, or else the process-wide default (`setDefaultBackendFactory`):
 * Docket picks its store from `connection`, except that `createPostgresBackend` makes it PostgreSQL,
 * and a function of the user's (a wrapper of either factory, or `() => queue.getBackend()`) is called
 * by the constructor for the backend whose store it uses. Returns the options the base class gets.
 */
export function withBackendFactory<T extends QueueBaseOptions>(opts: T, backendFactory: unknown): T {
  const factory = effectiveBackendFactory(backendFactory);
  if (factory === undefined || isConnectionBackendFactory(factory)) return opts;
  if (isPostgresBackendFactory(factory)) return { ...opts, [STORE_KIND]: 'postgres' };
  if (typeof factory !== 'function') {
    throw new ValidationError(
      `backendFactory must be a function such as createPostgresBackend (got ${typeof factory}): or choose the store with the \`connection\` option (sqlite:…, redis://… or postgres://…)`,
    );
  }
  return { ...opts, [GIVEN_FACTORY]: factory };
}

/** The suffixes of BullMQ's `keys` map, in its order. */
const KEY_SUFFIXES = [
  '',
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'stalled-check',
  'completed',
  'failed',
  'stalled',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
  'de',
];

/** Every Queue, Worker, QueueEvents and FlowProducer still open: tests fail when one leaks. */
export const openInstances = new Set<{ name: string; close(): Promise<void> }>();

/** What Queue, Worker and QueueEvents share: a name, a store and a lifecycle. */
export class QueueBase extends EventEmitter {
  readonly name: string;
  readonly qualifiedName: string;
  readonly prefix: string;
  /**
   * BullMQ's `keys`: each of its key suffixes → `<prefix>:<name>:<suffix>` (`''` → `<prefix>:<name>:`,
   * the parent-key prefix code builds job keys from). On SQLite and PostgreSQL they are names only.
   */
  readonly keys: Record<string, string>;
  /** @internal the storage seam; the API layer talks to storage only through it. */
  readonly store: Store;
  /** The `telemetry` option (BullMQ's); undefined when not given. */
  readonly telemetry?: Telemetry;
  protected closing?: Promise<void>;
  private readyPromise?: Promise<void>;
  /** Set by Worker: its store also prepares what waiting for work needs before it counts as ready. */
  protected readonly waitsForWork: boolean = false;
  /** Set once the store was ready: later waits return at once. */
  protected isReady = false;
  /**
   * Aborted when close() begins: a wait for a store that never connects gives up (so a Worker or
   * QueueEvents whose loop waits for it can close).
   */
  protected readonly closeStarted = new AbortController();

  private readonly ownsStore: boolean;
  private backend?: DocketBackend;

  /** `shared`: a store owned by someone else (a FlowProducer's queue views); it is not closed here. */
  constructor(name: string, opts: QueueBaseOptions, blocking: boolean, shared?: Store) {
    super();
    validateQueueName(name);
    const prefix = opts.prefix ?? 'bull';
    validatePrefix(prefix);
    this.name = name;
    this.prefix = prefix;
    this.qualifiedName = `${prefix}:${name}`;
    this.keys = Object.fromEntries(KEY_SUFFIXES.map((suffix) => [suffix, `${this.qualifiedName}:${suffix}`]));
    this.telemetry = opts.telemetry;
    const factory = (opts as { [GIVEN_FACTORY]?: unknown })[GIVEN_FACTORY];
    // BullMQ calls a factory (name, options, { blocking, withBlockingConnection }).
    const given = shared
      ? undefined
      : backendOfFactory(factory, name, opts, { blocking, withBlockingConnection: blocking });
    this.ownsStore = shared === undefined && (given === undefined || given.owned);
    this.store =
      shared ??
      given?.store ??
      connect({
        connection: opts.connection,
        sqlite: opts.sqlite,
        postgres: opts.postgres,
        blocking,
        kind: (opts as { [STORE_KIND]?: 'postgres' })[STORE_KIND],
      });
    try {
      this.store.checkQueue?.(this.qualifiedName);
    } catch (err) {
      if (this.ownsStore) void this.store.close();
      throw err;
    }
    if (this.ownsStore) {
      openInstances.add(this);
      this.store.onError = (err) => {
        if (!this.closed && this.listenerCount('error') > 0) this.emit('error', err);
      };
    }
  }

  /**
   * Runs `fn` in a span named `<operation> <destination>` through the `telemetry` option, as BullMQ's
   * `trace` (a plain call without it). `parentMetadata`: a job's `opts.telemetry.metadata`.
   */
  trace<T>(
    kind: SpanKind,
    operation: string,
    destination: string,
    fn: (scope: SpanScope) => Promise<T>,
    parentMetadata?: string,
  ): Promise<T> {
    return trace(this.telemetry, kind, this.name, operation, destination, fn, parentMetadata);
  }

  /**
   * Resolves when the store is connected and the queue's schema checked. A failure (the store cannot
   * be reached) is not kept: the next call tries again.
   */
  waitUntilReady(): Promise<void> {
    if (!this.readyPromise) {
      const ready = this.store.ready(this.qualifiedName, { waiter: this.waitsForWork });
      this.readyPromise = ready;
      ready.then(
        () => {
          this.isReady = true;
        },
        () => {
          if (this.readyPromise === ready) this.readyPromise = undefined;
        },
      );
    }
    // Every call made before the store is ready listens on closeStarted: any number may wait at once.
    if (!this.isReady) setMaxListeners(0, this.closeStarted.signal);
    return this.isReady ? this.readyPromise : untilClosed(this.readyPromise, this.closeStarted.signal);
  }

  /**
   * BullMQ v6's handle on the datastore: here the Redis client (`client`) for tools that read the
   * server, and a store to share as `() => queue.getBackend()` (see backend.ts).
   */
  getBackend(): DocketBackend {
    this.backend ??= new DocketBackend(this.store, this.qualifiedName);
    return this.backend;
  }

  /**
   * `<prefix>:<name>:<type>`, as BullMQ's `toKey`: code uses it to name a parent
   * (`{ id, queue: toKey('') }` style) or to build a job's key for `getParentKey`.
   */
  toKey(type: string): string {
    return `${this.qualifiedName}:${type}`;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Closes the store once; subclasses stop their own work first in `shutdown`. */
  close(): Promise<void> {
    this.closeStarted.abort();
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** BullMQ's alias of close(). */
  disconnect(): Promise<void> {
    return this.close();
  }

  protected async shutdown(): Promise<void> {
    try {
      // A store still connecting is not waited for: closing it ends that wait.
      if (this.isReady) await this.readyPromise?.catch(() => undefined);
      if (this.ownsStore) await this.store.close();
    } finally {
      openInstances.delete(this);
    }
  }
}

/** `promise`, or a ConnectionClosedError as soon as `signal` aborts. */
function untilClosed<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ConnectionClosedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ConnectionClosedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
