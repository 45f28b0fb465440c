import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { CLOCK_SQL, Conn, inline, type Prelude, queueLockKey, SqlDialect, typesFor } from './conn.js';
import { pgDriver } from './driver.js';
import { Heartbeats } from './heartbeats.js';
import { LISTENER_APPLICATION_NAME, Listener } from './listener.js';
import { isPool, type PgConnection } from './postgres-options.js';
import { migrate } from './schema.js';

/** Deadlock and serialization failures: the transaction did nothing and is run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 10;

/**
 * One `pg.Pool` per process per connection (URL, config or Pool instance) and schema, shared by
 * every Queue, Worker, QueueEvents and FlowProducer of the process and counted, so that
 * connections stay bounded by the pool's `max` (+1 for LISTEN) however many of them a process
 * opens; closed when the last user closes. A Pool the user handed over is used, never ended.
 */
export class SharedPool {
  private static readonly open = new Map<unknown, SharedPool>();

  readonly dialect: SqlDialect;
  readonly types = typesFor(pgDriver().types);
  readonly listener: Listener;
  /** This process's worker heartbeats, written with stalled checks (heartbeats.ts). */
  readonly heartbeats = new Heartbeats();
  /** The NOTIFY channel of this schema. */
  readonly channel: string;
  /** Sent with this pool's notices, so that its own listener skips them (listener.ts). */
  readonly sender = randomUUID().slice(0, 8);
  private refs = 0;
  private migrated?: Promise<void>;
  private readonly errorHandlers = new Set<(err: Error) => void>();

  private constructor(
    readonly pool: pg.Pool,
    private readonly owns: boolean,
    private readonly key: unknown,
    readonly schema: string,
  ) {
    this.dialect = new SqlDialect(schema);
    this.channel = schema === 'docket' ? 'docket' : `docket:${schema}`;
    // An idle pooled client that loses its server emits on the pool: unhandled, it would end the process.
    if (owns) pool.on('error', (err) => this.reportError(err));
    const options = (pool as unknown as { options: pg.ClientConfig }).options;
    this.listener = new Listener(
      () => new (pgDriver().Client)({ ...options, application_name: LISTENER_APPLICATION_NAME }),
      this.channel,
      this.sender,
      (err) => this.reportError(err),
    );
  }

  /** `synchronousCommit: false` (PostgresOptions): the server's setting for the pool's connections. */
  static acquire(connection: PgConnection, schema: string, synchronousCommit = true): SharedPool {
    const base = isPool(connection) ? connection : undefined;
    const key =
      base ??
      `${schema}\u0000${synchronousCommit ? '' : 'async\u0000'}${typeof connection === 'string' ? connection : JSON.stringify(connection)}`;
    let shared = SharedPool.open.get(key);
    if (!shared) {
      const config: pg.PoolConfig =
        typeof connection === 'string' ? { connectionString: connection } : { ...(connection as pg.PoolConfig) };
      if (!synchronousCommit) config.options = [config.options, '-c synchronous_commit=off'].filter(Boolean).join(' ');
      const pool = base ?? new (pgDriver().Pool)({ allowExitOnIdle: true, ...config });
      shared = new SharedPool(pool, base === undefined, key, schema);
      SharedPool.open.set(key, shared);
    }
    shared.refs++;
    return shared;
  }

  /** Per queue, how many calls `serial` chained: a batch still last in the chain may take more (removing-fast.ts). */
  private readonly calls = new Map<string, number>();

  /** The number of the last call chained for `queue` (see `calls`). */
  lastCall(queue: string): number {
    return this.calls.get(queue) ?? 0;
  }

  /** Per queue, the end of the chain of its calls in this process (`serial`). */
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * Runs the calls of one queue in this process one after the other, in the order they were made,
   * as a Redis client's commands and a SQLite handle's calls run: without it, two calls made in a
   * row (four adds in a Promise.all, a heartbeat then a read of the workers) would race for pooled
   * clients and run in any order. Transitions of a queue wait for each other anyway (its advisory
   * lock), so a process holds at most one pooled client per queue, and none waiting on a lock.
   */
  serial<T>(queue: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (queue === undefined) return fn();
    this.calls.set(queue, (this.calls.get(queue) ?? 0) + 1);
    const prev = this.tails.get(queue);
    const run = prev ? prev.then(fn, fn) : fn();
    const tail = run.catch(() => undefined);
    this.tails.set(queue, tail);
    void tail.then(() => {
      if (this.tails.get(queue) === tail) this.tails.delete(queue);
    });
    return run;
  }

  onError(handler: (err: Error) => void): () => void {
    this.errorHandlers.add(handler);
    return () => this.errorHandlers.delete(handler);
  }

  private reportError(err: Error): void {
    for (const handler of this.errorHandlers) handler(err);
  }

  /** Migrates the schema once per pool (schema.ts); a failure is retried by the next call. */
  whenReady(): Promise<void> {
    this.migrated ??= (async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      const lost = (err: Error) => (broken = err);
      client.on('error', lost);
      try {
        await migrate(client, this.schema);
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    })().catch((err) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  /**
   * Runs `fn` in one transaction on one pooled client (READ COMMITTED: the store serialises what
   * must be with row and advisory locks, transitions.ts). Run again on a deadlock, which
   * PostgreSQL resolves by failing one of the transactions.
   */
  async transact<T>(fn: (conn: Conn) => Promise<T>, queue?: string, prelude: Prelude = []): Promise<T> {
    await this.whenReady();
    // One round trip: BEGIN, the queue's lock (transitions.ts), then the server's clock once locked,
    // and a first read of the transition's when it has one (`prelude`, Conn.takePrelude).
    const begin =
      queue === undefined
        ? 'BEGIN'
        : `BEGIN; SELECT pg_advisory_xact_lock(${queueLockKey(this.schema, queue)}); ${CLOCK_SQL}`;
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      const lost = (err: Error) => (broken = err); // between two queries: the next one fails with it
      client.on('error', lost);
      try {
        const reads = prelude.map((p) => inline(this.dialect, client, p.sql, p.values));
        const text = [begin, ...reads].join(';\n');
        const began = (await client.query({ text, types: this.types })) as unknown as pg.QueryResult[] | pg.QueryResult;
        const results = Array.isArray(began) ? began : [began];
        const clock = queue === undefined ? undefined : Number(results[2].rows[0].now);
        const first = new Map(prelude.map((p, i) => [p.name, results[results.length - prelude.length + i].rows]));
        const conn = new Conn(client, this.dialect, this.types, clock, queue, first);
        const out = await fn(conn);
        if (!conn.committed) await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        const code = (err as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    }
  }

  /** One statement outside BEGIN/COMMIT: its own transaction, committed in the same round trip. */
  async statement<T>(fn: (conn: Conn) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.read(fn);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /** A read outside any transaction (each statement sees what was committed when it ran). */
  async read<T>(fn: (conn: Conn) => Promise<T>): Promise<T> {
    await this.whenReady();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const lost = (err: Error) => (broken = err);
    client.on('error', lost);
    try {
      return await fn(new Conn(client, this.dialect, this.types));
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /** Resolves once the last user let go: the listener closed and an owned pool ended. */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    SharedPool.open.delete(this.key);
    await this.listener.close();
    await this.migrated?.catch(() => undefined);
    if (this.owns) await this.pool.end();
  }
}
