import { isCluster, type RedisClient } from './cluster.js';

/**
 * Connections for blocking commands (BZPOPMIN on the marker, XREAD BLOCK on the event log),
 * duplicated from the store's client on first use. A blocked connection serves one caller, so
 * concurrent waits each take their own; an idle one is reused. Aborting a wait disconnects its
 * connection (the only way to cut a blocking command short) and the pool makes a new one next time.
 */
export class BlockingPool {
  private readonly idle: RedisClient[] = [];
  private readonly all = new Set<RedisClient>();
  /** Ends each wait in progress with its fallback (close). */
  private readonly waits = new Set<() => void>();
  private closed = false;

  constructor(private readonly main: RedisClient) {}

  /**
   * Runs `command` on a blocking connection. Resolves `fallback` at once when `signal` aborts
   * (or the pool closes) instead of waiting for the command's timeout.
   */
  async run<T>(signal: AbortSignal, fallback: T, command: (client: RedisClient) => Promise<T>): Promise<T> {
    if (signal.aborted || this.closed) return fallback;
    const client = this.idle.pop() ?? this.create();
    let cut = false;
    let stop!: () => void;
    // The wait ends on abort whether or not the command settles: a connection cut while it was
    // reconnecting never answers its pending command once disconnect() stops the reconnection,
    // and a worker waiting on it could not close.
    const stopped = new Promise<T>((resolve) => {
      stop = () => {
        cut = true;
        client.disconnect();
        resolve(fallback);
      };
    });
    signal.addEventListener('abort', stop, { once: true });
    this.waits.add(stop);
    try {
      const done = command(client).catch((err) => {
        if (cut || this.closed || isUnblocked(err)) return fallback;
        throw err;
      });
      return await Promise.race([done, stopped]);
    } finally {
      signal.removeEventListener('abort', stop);
      this.waits.delete(stop);
      if (cut || this.closed || client.status === 'end') {
        this.all.delete(client);
        client.disconnect();
      } else {
        this.idle.push(client);
      }
    }
  }

  /** Connects one idle blocking connection ahead of the first wait. Never rejects: waits report errors. */
  async warm(): Promise<void> {
    if (this.closed || this.idle.length > 0) return;
    const client = this.create();
    this.idle.push(client);
    if (client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        client.off('ready', done);
        client.off('end', done);
        client.off('error', done);
        resolve();
      };
      client.on('ready', done);
      client.on('end', done);
      client.on('error', done);
    });
  }

  private create(): RedisClient {
    // A Cluster duplicates into a Cluster: a blocked command follows its key's slot, also after a failover.
    // A blocked connection is cut, not closed politely: ioredis's default waits up to 2 s for the
    // server to close a socket it may hold until the blocking command times out, and keeps the
    // process alive meanwhile (a Nest app on Redis took 4 s to exit after close()).
    const main = this.main;
    const client: RedisClient = isCluster(main) ? main.duplicate() : main.duplicate({ disconnectTimeout: 0 });
    // Errors surface through the commands; an unhandled 'error' event would crash the process.
    client.on('error', () => {});
    this.all.add(client);
    return client;
  }

  /** Disconnects every connection the pool made (blocked commands end with their fallback). */
  close(): void {
    this.closed = true;
    for (const stop of [...this.waits]) stop();
    for (const client of this.all) client.disconnect();
    this.all.clear();
    this.idle.length = 0;
  }
}

/**
 * Redis ends blocked commands with UNBLOCKED when their server turns from master into replica (a
 * Cluster failover): a wake-up like any other, after which the caller asks again, on the new master.
 */
function isUnblocked(err: unknown): boolean {
  return /^UNBLOCKED\b/.test((err as Error)?.message ?? '');
}
