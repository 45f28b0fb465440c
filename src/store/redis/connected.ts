import type { RedisOptions } from 'ioredis';
import { ConnectionError } from '../../errors.js';
import { isCluster, type RedisClient } from './cluster.js';

/**
 * Whether a Redis client is connected, and a bounded wait for it. A call waits here instead of
 * queueing commands on a client that may never connect (ioredis would hold them through its retries
 * and send them whenever it connects, long after the call gave up).
 *
 * The bound is the client's own settings, as BullMQ users set them: `enableOfflineQueue: false`
 * fails at once; `maxRetriesPerRequest: n` fails once n connection attempts in a row have failed
 * (and at once while that is still so); null waits for as long as ioredis retries. A client that
 * gave up (`end`) fails at once. The error names the server and the last connection error.
 */
export class ConnectionWatch {
  /** Connection attempts that failed since the client was last ready. */
  private failures = 0;
  /** The last connection error (noted by the owner of the client's 'error' listener). */
  lastError?: Error;
  /** Calls waiting for the connection: one set of client listeners serves them all. */
  private waiters: { resolve(): void; reject(err: Error): void }[] = [];

  /** One watch per client, however many queues share it (listeners are added once). */
  static of(client: RedisClient): ConnectionWatch {
    let watch = watches.get(client);
    if (!watch) {
      watch = new ConnectionWatch(client);
      watches.set(client, watch);
    }
    return watch;
  }

  private constructor(private readonly client: RedisClient) {
    client.on('ready', () => {
      this.failures = 0;
      this.lastError = undefined;
      for (const w of this.waiters.splice(0)) w.resolve();
    });
    client.on('reconnecting', () => {
      this.failures++;
      const limit = this.limit();
      if (limit !== null && this.failures >= limit && this.waiters.length > 0) {
        const err = this.gaveUp(limit);
        for (const w of this.waiters.splice(0)) w.reject(err);
      }
    });
    client.on('end', () => {
      const err = this.unreachable('the connection is closed');
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  /**
   * Undefined when connected (no await on the hot path), else a promise of the connection.
   * `closed` aborts the wait (the store closing while the client still retries).
   */
  connected(closed: AbortSignal): Promise<void> | undefined {
    const client = this.client;
    if (client.status === 'ready') return undefined;
    const limit = this.limit();
    if (client.status === 'end' || closed.aborted) return Promise.reject(this.unreachable('the connection is closed'));
    if ((client.options as RedisOptions).enableOfflineQueue === false) {
      return Promise.reject(this.unreachable('not connected'));
    }
    if (limit !== null && this.failures >= limit) return Promise.reject(this.gaveUp(limit));
    // lazyConnect: nothing connects until asked (a command would, but none is sent before this resolves).
    if (client.status === 'wait') client.connect().catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          closed.removeEventListener('abort', onClosed);
          resolve();
        },
        reject: (err: Error) => {
          closed.removeEventListener('abort', onClosed);
          reject(err);
        },
      };
      const onClosed = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(this.unreachable('the connection is closed'));
      };
      closed.addEventListener('abort', onClosed, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** A Cluster keeps its node connections' options under `redisOptions`. */
  private limit(): number | null {
    const client = this.client;
    const options = isCluster(client) ? client.options.redisOptions : (client.options as RedisOptions);
    return options?.maxRetriesPerRequest ?? null;
  }

  private gaveUp(limit: number): ConnectionError {
    return this.unreachable(`${limit} connection attempts failed; maxRetriesPerRequest bounds the wait`);
  }

  private unreachable(why: string): ConnectionError {
    const client = this.client;
    const o = client.options as RedisOptions & { path?: string };
    const where = isCluster(client)
      ? 'a Redis Cluster'
      : o.path
        ? o.path
        : `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
    const reason = this.lastError?.message ? `: ${this.lastError.message}` : '';
    const target = isCluster(client) ? where : `Redis at ${where}`;
    return new ConnectionError(`${target} cannot be reached${reason} (${why})`, { cause: this.lastError });
  }
}

const watches = new WeakMap<RedisClient, ConnectionWatch>();
