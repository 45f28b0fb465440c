import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { migrate } from './schema.js';

export interface SqliteOptions {
  /** 'NORMAL' (default: survives a process crash) or 'FULL' (also survives power loss). */
  synchronous?: 'NORMAL' | 'FULL';
}

/**
 * One better-sqlite3 handle per file per process, shared by every Queue and Worker of the process,
 * so that a worker in the same process wakes the moment a producer commits (through `changes`).
 * Other processes are noticed by polling `PRAGMA data_version` (see `waitForChange`).
 */
export class SharedDatabase {
  readonly changes = new EventEmitter();
  private refs = 0;

  private constructor(
    readonly db: Database.Database,
    readonly key: string,
  ) {
    this.changes.setMaxListeners(0);
    this.runInTransaction = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * One transaction wrapper for every call, given the body as its argument: building a new
   * `db.transaction(fn)` per call cost more than some of the transactions it ran.
   */
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;

  private static readonly open = new Map<string, SharedDatabase>();
  private checkpointer?: Checkpointer;

  static acquire(path: string, opts: SqliteOptions = {}): SharedDatabase {
    const key = path === ':memory:' ? path : resolve(path);
    let shared = SharedDatabase.open.get(key);
    if (!shared) {
      if (key !== ':memory:') closeSync(openSync(key, 'a', 0o600)); // owner-only from the first byte
      const db = new Database(key);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
      // Short: a busy writer is retried asynchronously by `transact`, never by blocking the event loop.
      db.pragma('busy_timeout = 5');
      migrate(db, key);
      shared = new SharedDatabase(db, key);
      if (key !== ':memory:') shared.checkpointer = new Checkpointer(db, key);
      SharedDatabase.open.set(key, shared);
    }
    shared.refs++;
    return shared;
  }

  release(): void {
    if (--this.refs > 0) return;
    SharedDatabase.open.delete(this.key);
    this.changes.emit('closed');
    void this.checkpointer?.stop();
    this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, compiled once per handle. */
  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private readonly rawStatements = new Map<string, Database.Statement>();

  /**
   * A prepared statement returning rows as arrays (`pluck`: the first column alone), for hot paths:
   * better-sqlite3 builds a row object property by property, which costs far more than an array.
   * Cached apart from `stmt` since the mode belongs to the statement.
   */
  rawStmt(sql: string, pluck = false): Database.Statement {
    const key = pluck ? `pluck:${sql}` : sql;
    let st = this.rawStatements.get(key);
    if (!st) {
      st = pluck ? this.db.prepare(sql).pluck() : this.db.prepare(sql).raw();
      this.rawStatements.set(key, st);
    }
    return st;
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, retrying asynchronously while the file is busy. */
  async transact<T>(fn: () => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.runInTransaction.immediate(fn) as T;
      } catch (err) {
        if (!isBusy(err) || attempt > 2000) throw err;
        await sleep(2 + Math.random() * Math.min(50, attempt * 2));
      }
    }
  }

  /** Same as `transact` for a plain read (no write lock taken). */
  async read<T>(fn: () => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || attempt > 2000) throw err;
        await sleep(2 + Math.random() * 10);
      }
    }
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private readonly generations = new Map<string, number>();

  /** Tells waiters in this process that `queue` has new work or events. */
  notify(queue: string): void {
    this.generations.set(queue, this.generation(queue) + 1);
    this.changes.emit(queue);
  }

  /**
   * How many times `queue` was notified in this process: a caller that read it before a fetch and
   * finds it changed before waiting does not wait (the notice came between its fetch and its wait).
   */
  generation(queue: string): number {
    return this.generations.get(queue) ?? 0;
  }

  /**
   * Resolves when `queue` is notified in this process, another process commits to the file
   * (polled every `pollMs`), `timeoutMs` passes or `signal` aborts.
   */
  waitForChange(queue: string, timeoutMs: number, signal: AbortSignal, pollMs = 50): Promise<void> {
    if (signal.aborted || timeoutMs <= 0) return Promise.resolve();
    return new Promise((done) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.changes.off(queue, finish);
        this.changes.off('closed', finish);
        signal.removeEventListener('abort', finish);
        done();
      };
      const timer = setTimeout(finish, timeoutMs);
      const poll = setInterval(() => {
        if (!this.db.open) return finish();
        if (this.dataVersion() !== seen) finish();
      }, pollMs);
      const seen = this.dataVersion();
      this.changes.on(queue, finish);
      this.changes.on('closed', finish);
      signal.addEventListener('abort', finish);
    });
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}
