import { createHash } from 'node:crypto';
import type pg from 'pg';

/** The server's clock in epoch ms: locks expire on it, not on callers' clocks (transitions.ts). */
export const CLOCK_SQL = 'SELECT floor(extract(epoch from clock_timestamp()) * 1000)::bigint AS now';

/** Names of prepared statements, unique in the process (one client may serve two schemas). */
let statements = 0;

/** The tables of a Docket schema: the SQL below names them bare, `translate` qualifies them. */
const TABLES =
  /\b(FROM|INTO|UPDATE|JOIN)\s+(queues|jobs|events|logs|deps|schedulers|dedup|metrics|workers|groups|minute_counts|state_counts)\b/g;

/** bigint and numeric (count(*), sums) come back from pg as strings; every value Docket stores fits a double. */
const NUMBER_OIDS = new Set([20, 1700]);
const toNumber = (v: string) => Number(v);

/**
 * Per query rather than on the pool, so that a `pg.Pool` the user hands over is not changed
 * (the pool's own `types` would apply to their queries too).
 */
export function typesFor(base: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: any) =>
      NUMBER_OIDS.has(oid) ? toNumber : base.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * The SQL of the store is written as SQLite's (`?` placeholders, tables named bare) so the two
 * stores read side by side; this turns it into PostgreSQL's once per statement and schema.
 */
export class SqlDialect {
  private readonly cache = new Map<string, { text: string; name: string }>();

  constructor(readonly schema: string) {}

  private readonly qualified = new Map<string, string>();

  /** The tables of `sql` qualified by the schema, and nothing else changed (for `Conn.simple`). */
  qualify(sql: string): string {
    let done = this.qualified.get(sql);
    if (done === undefined) {
      const schema = `"${this.schema.replaceAll('"', '""')}"`;
      done = sql.replace(TABLES, (_m, kw: string, table: string) => `${kw} ${schema}.${table}`);
      this.qualified.set(sql, done);
    }
    return done;
  }

  translate(sql: string): { text: string; name: string } {
    let done = this.cache.get(sql);
    if (!done) {
      let n = 0;
      const qualified = `"${this.schema.replaceAll('"', '""')}"`;
      const text = sql.replace(TABLES, (_m, kw: string, table: string) => `${kw} ${qualified}.${table}`);
      // A named statement is prepared once per connection by pg and reused after.
      done = { text: text.replace(/\?/g, () => `$${++n}`), name: `docket_${++statements}` };
      this.cache.set(sql, done);
    }
    return done;
  }
}

const lockKeys = new Map<string, string>();

/**
 * The advisory lock key of a queue in a schema: 64 bits of its SHA-1, computed here so that a
 * transaction can take its queue's lock in the same round trip as BEGIN (database.ts).
 */
export function queueLockKey(schema: string, queue: string): string {
  const name = `${schema}\u0000${queue}`;
  let key = lockKeys.get(name);
  if (key === undefined) {
    key = createHash('sha1').update(name).digest().readBigInt64BE(0).toString();
    if (lockKeys.size > 10_000) lockKeys.clear();
    lockKeys.set(name, key);
  }
  return key;
}

/** `sql` (tables bare, `:name` markers) as text for the simple query protocol: qualified, values inlined as literals. */
export function inline(
  dialect: SqlDialect,
  client: pg.ClientBase,
  sql: string,
  values: Record<string, string>,
): string {
  return dialect
    .qualify(sql)
    .replace(/(?<!:):([a-zA-Z]+)\b/g, (_m, key: string) => client.escapeLiteral(values[key] ?? ''));
}

/** Reads sent with BEGIN (database.ts `transact`), by name; their rows are handed out by Conn.takePrelude. */
export type Prelude = { name: string; sql: string; values: Record<string, string> }[];

/**
 * Runs `send` with the client's socket corked. pg writes a prepared statement's Bind, Describe,
 * Execute and Sync one by one: the first went out alone and woke the server for a partial message,
 * the rest followed in a second write (measured: ~100 µs of a worker's CPU per job at concurrency
 * 1 on a local TCP connection). Corked, they leave in one write. `send` writes synchronously when
 * the client is idle; a query queued behind another is written later, uncorked, as before.
 */
function corked<T>(client: pg.ClientBase, send: () => T): T {
  const stream = (client as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
  stream?.cork?.();
  try {
    return send();
  } finally {
    stream?.uncork?.();
  }
}

/** A statement bound to a connection, with better-sqlite3's shape (get/all/run) but async. */
export interface Statement {
  get(...params: unknown[]): Promise<unknown>;
  all(...params: unknown[]): Promise<unknown[]>;
  run(...params: unknown[]): Promise<{ changes: number }>;
}

/**
 * One pooled client for the span of one transaction or read: what the SQLite store's
 * SharedDatabase.stmt/rawStmt are there, here over the network.
 */
export class Conn {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly dialect: SqlDialect,
    private readonly types: pg.CustomTypesConfig,
    /** The server's clock (epoch ms) read right after the transaction took its queue's lock. */
    readonly clock?: number,
    /** The queue whose lock the transaction took as it began. */
    readonly lockedQueue?: string,
    private readonly prelude = new Map<string, Record<string, unknown>[]>(),
  ) {}

  get schema(): string {
    return this.dialect.schema;
  }

  async query(sql: string, params: unknown[], array = false): Promise<pg.QueryResult> {
    const { text, name } = this.dialect.translate(sql);
    return corked(this.client, () =>
      this.client.query({
        text,
        name,
        values: params,
        types: this.types,
        ...(array ? { rowMode: 'array' as const } : {}),
      }),
    );
  }

  /**
   * Several statements in one round trip (the simple query protocol, which takes no parameters):
   * in each, `:name` becomes its `values[name]` as an escaped literal. Sent outside BEGIN/COMMIT,
   * PostgreSQL runs them as one implicit transaction, rolled back whole if one fails. One result
   * per statement, in order.
   */
  async simple(statements: { sql: string; values: Record<string, string> }[]): Promise<pg.QueryResult[]> {
    const text = statements.map(({ sql, values }) => inline(this.dialect, this.client, sql, values)).join(';\n');
    const out = (await this.client.query({ text, types: this.types })) as unknown as pg.QueryResult[] | pg.QueryResult;
    return Array.isArray(out) ? out : [out];
  }

  /** Rows a statement sent with BEGIN read, left for `takePrelude`. */
  peekPrelude(name: string): Record<string, unknown>[] | undefined {
    return this.prelude.get(name);
  }

  /** Rows a statement sent with BEGIN read (database.ts `transact`), handed out once. */
  takePrelude(name: string): Record<string, unknown>[] | undefined {
    const rows = this.prelude.get(name);
    this.prelude.delete(name);
    return rows;
  }

  /** Set once `commitAfter` committed the transaction: the caller does not COMMIT again. */
  committed = false;

  /** Runs `before`, `sql`, then `after` (as `simple`), then COMMIT, in one round trip; the results of `after`. */
  async commitAfter(
    sql: string,
    values: Record<string, string>,
    before: { sql: string; values: Record<string, string> }[] = [],
    after: { sql: string; values: Record<string, string> }[] = [],
  ): Promise<pg.QueryResult[]> {
    const results = await this.simple([...before, { sql, values }, ...after, { sql: 'COMMIT', values: {} }]);
    this.committed = true;
    return results.slice(before.length + 1, before.length + 1 + after.length);
  }

  /** Rows as objects by column name. */
  stmt(sql: string): Statement {
    return {
      get: async (...params) => (await this.query(sql, params)).rows[0],
      all: async (...params) => (await this.query(sql, params)).rows,
      run: async (...params) => ({ changes: (await this.query(sql, params)).rowCount ?? 0 }),
    };
  }

  /** Rows as arrays; with `pluck`, the first column alone. */
  rawStmt(sql: string, pluck = false): Statement {
    const shape = (r: unknown[]) => (pluck ? r[0] : r);
    return {
      get: async (...params) => {
        const row = (await this.query(sql, params, true)).rows[0] as unknown[] | undefined;
        return row === undefined ? undefined : shape(row);
      },
      all: async (...params) => (await this.query(sql, params, true)).rows.map((r) => shape(r as unknown[])),
      run: async (...params) => ({ changes: (await this.query(sql, params)).rowCount ?? 0 }),
    };
  }
}
