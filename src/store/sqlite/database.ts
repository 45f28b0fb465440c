import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CancelWatch } from './cancels.js';
import { Checkpointer } from './checkpointer.js';
import { BUSY_TIMEOUT_MS, busyBackoff, configure, isBusy, MAX_BUSY_ATTEMPTS } from './opening.js';
import { type SqliteOptions, type SqliteSettings, sqliteSettings } from './sqlite-options.js';

/**
 * One better-sqlite3 handle per file per process, shared by every Queue and Worker of the process,
 * so that a worker in the same process wakes the moment a producer commits (through `changes`).
 * Other processes are noticed by polling `PRAGMA data_version` (see `waitForChange`).
 */
export class SharedDatabase {
  readonly changes = new EventEmitter();
  /** Cancel notices for every store of this process on this file (Store.watchCancels). */
  readonly cancels: CancelWatch = new CancelWatch(this);
  private refs = 0;
  /** Set up (WAL, schema) and not released: calls run at once. */
  private ready = false;
  private released = false;
  /** While the file was busy at the first attempt to set it up: the retries, which calls wait for. */
  private opening?: Promise<void>;
  private checkpointer?: Checkpointer;

  private constructor(
    readonly db: Database.Database,
    readonly key: string,
    private readonly settings: SqliteSettings,
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

  /**
   * The handle of `path` in this process, opened on first use. Never throws SQLITE_BUSY: when another
   * process is creating, converting or migrating the file at this moment, the set-up is retried in the
   * background and every call waits for it. Other errors of the first attempt (a file that is not
   * Docket's, a newer schema) are thrown here.
   */
  static acquire(path: string, opts: SqliteOptions = {}): SharedDatabase {
    const key = path === ':memory:' ? path : resolve(path);
    let shared = SharedDatabase.open.get(key);
    if (!shared) {
      const settings = sqliteSettings(opts);
      if (key !== ':memory:') closeSync(openSync(key, 'a', 0o600)); // owner-only from the first byte
      // better-sqlite3 waits 5 s for a lock by default: far too long for a constructor.
      const db = new Database(key, { timeout: BUSY_TIMEOUT_MS });
      shared = new SharedDatabase(db, key, settings);
      try {
        shared.setUp();
      } catch (err) {
        if (!isBusy(err)) {
          db.close();
          throw err;
        }
        shared.opening = shared.retrySetUp();
        shared.opening.catch(() => undefined); // reported to the calls that wait for it
      }
      SharedDatabase.open.set(key, shared);
    }
    shared.refs++;
    return shared;
  }

  private setUp(): void {
    configure(this.db, this.key, this.settings);
    if (this.key !== ':memory:') {
      this.checkpointer = new Checkpointer(this.db, this.key, Math.floor(this.settings.maxWalBytes / 4));
    }
    this.ready = true;
  }

  private async retrySetUp(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await sleep(busyBackoff(attempt));
      if (this.released) throw new Error(`SQLite file ${this.key} was closed before it could be opened`);
      try {
        return this.setUp();
      } catch (err) {
        if (!isBusy(err) || attempt >= MAX_BUSY_ATTEMPTS) throw err;
      }
    }
  }

  /** Resolves when the handle is set up; rejects when that failed or the handle was released. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return this.opening ?? Promise.reject(new Error(`SQLite file ${this.key} is closed`));
  }

  /**
   * Resolves when the last user of the handle let go and the file is released: the main connection
   * closed first (so it is not the last one and does no checkpoint on the event loop), then the
   * checkpointer's, which removes the `-wal` and `-shm` files when no other process has the file open.
   */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    SharedDatabase.open.delete(this.key);
    this.released = true;
    this.cancels.stop();
    this.changes.emit('closed');
    await this.opening?.catch(() => undefined);
    this.db.close();
    await this.checkpointer?.stop();
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

  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction, retrying asynchronously while the file is busy, and
   * waiting while the checkpointer empties an oversized WAL (checkpointer.ts).
   */
  async transact<T>(fn: () => T): Promise<T> {
    if (!this.ready) await this.whenReady();
    for (let attempt = 1; ; attempt++) {
      // The checkpointer is about to empty an oversized WAL: let it have the write lock first.
      if (this.checkpointer?.writesPaused) await this.checkpointer.writesResumed();
      try {
        return this.runInTransaction.immediate(fn) as T;
      } catch (err) {
        if (!isBusy(err) || attempt >= MAX_BUSY_ATTEMPTS) throw err;
        await sleep(busyBackoff(attempt));
      }
    }
  }

  /** Same as `transact` for a plain read (no write lock taken). */
  async read<T>(fn: () => T): Promise<T> {
    if (!this.ready) await this.whenReady();
    for (let attempt = 1; ; attempt++) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || attempt >= MAX_BUSY_ATTEMPTS) throw err;
        await sleep(2 + Math.random() * 10);
      }
    }
  }

  /** Changes when another connection commits; NaN (never equal: a spurious wake-up) while busy. */
  dataVersion(): number {
    try {
      return this.db.pragma('data_version', { simple: true }) as number;
    } catch (err) {
      if (isBusy(err)) return Number.NaN;
      throw err;
    }
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
