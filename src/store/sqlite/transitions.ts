import type { JobRow, QueueRow } from '../sql/rows.js';
import type { MoveCode, NewJob } from '../store.js';
import type { SharedDatabase } from './database.js';
import { SqliteEventLog } from './event-log.js';
import { SqliteFetch } from './fetch.js';

/** A waiting grouped job's lane is its priority in the group minus this (below every queue lane). */
export const GROUP_LANE = 4_194_304;

/**
 * The building blocks of SQLite transitions. Each function runs inside a transaction opened by
 * the caller (`SharedDatabase.transact`), so a transition composed of several of them is still
 * one atomic step.
 */
export class Transitions {
  private readonly events: SqliteEventLog;
  /** Taking waiting jobs to active (fetch.ts). */
  readonly fetching: SqliteFetch;
  /** Other queues a transaction changed, to wake their waiters after commit. */
  readonly touched = new Set<string>();
  /** Events written so far: a transaction that wrote none changed nothing worth waking anyone for. */
  emitted = 0;

  constructor(
    private readonly sdb: SharedDatabase,
    maxEvents = 10_000,
  ) {
    this.events = new SqliteEventLog(sdb, maxEvents);
    this.fetching = new SqliteFetch(sdb, this);
  }

  /**
   * Lock expiries are set and judged on the time SQLite reads inside the transaction, not on the
   * caller's `now`: a caller whose clock is faked or skewed must not lose (or keep) a lock, as
   * BullMQ's lock keys expire by TTL on the server. Job timestamps stay on the caller's clock.
   * Read at each use (one cheap statement): a reading kept between calls could go stale.
   */
  lockClock(): number {
    if (this.txClock !== undefined) return this.txClock;
    const clock = (this.sdb.rawStmt("SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER)").get() as [number])[0];
    // One reading per write transaction: a batch of 50 completions read it 50 times (~1.3 µs each).
    if (this.inTransaction) this.txClock = clock;
    return clock;
  }

  private inTransaction = false;
  private txClock: number | undefined;

  /** Called by the store as a write transaction begins (also when it is retried after a busy file). */
  beginTransaction(): void {
    this.discardPending();
    this.inTransaction = true;
  }

  /** Called by the store once a write transaction committed or rolled back. */
  endTransaction(): void {
    this.inTransaction = false;
    this.txClock = undefined;
  }

  /** Records the queue's event cap (BullMQ's streams.events.maxLen) in its row; this process trims to it. */
  setEventCap(queue: string, cap: number): void {
    this.ensureQueue(queue);
    this.sdb.stmt('UPDATE queues SET max_events = ? WHERE queue = ?').run(cap, queue);
    this.events.caps.note(queue, cap);
  }

  ensureQueue(queue: string): void {
    this.sdb.stmt('INSERT OR IGNORE INTO queues (queue) VALUES (?)').run(queue);
  }

  meta(queue: string): QueueRow {
    const select = this.sdb.stmt('SELECT * FROM queues WHERE queue = ?');
    // Read first: the queue row nearly always exists, and the INSERT OR IGNORE was one more statement per fetch.
    const row = select.get(queue) as QueueRow | undefined;
    if (row) return row;
    this.ensureQueue(queue);
    return select.get(queue) as QueueRow;
  }

  /**
   * The queue counters (`queues.seq`, `queues.next_id`) this transaction hands out: read on first
   * use, counted up here and written back once by `flushPending`, where an UPDATE ... RETURNING
   * per job was a third of an addBulk. Until then the two columns in the table are stale, so they
   * are read and written only through `nextSeq` / `nextId` (meta()'s callers do not read them).
   */
  private readonly counters = new Map<string, { seq: number; nextId: number }>();

  private counter(queue: string): { seq: number; nextId: number } {
    let c = this.counters.get(queue);
    if (!c) {
      const read = this.sdb.rawStmt('SELECT seq, next_id FROM queues WHERE queue = ?');
      let row = read.get(queue) as [number, number] | undefined;
      if (!row) {
        this.ensureQueue(queue); // the queue's first job
        row = read.get(queue) as [number, number];
      }
      c = { seq: row[0], nextId: row[1] };
      this.counters.set(queue, c);
    }
    return c;
  }

  /**
   * Makes sure the queue's row exists, reading its counters on the way: the row nearly always exists,
   * and an INSERT OR IGNORE per add was ~9 µs of a ~170 µs one-job add.
   */
  knowQueue(queue: string): void {
    this.counter(queue);
  }

  /** The next position in the queue's waiting order. */
  nextSeq(queue: string): number {
    return ++this.counter(queue).seq;
  }

  /** The next automatic job id of the queue. */
  nextId(queue: string): number {
    return ++this.counter(queue).nextId;
  }

  /** Writes what the transaction kept in memory, before it commits: the counters, then the events. */
  flushPending(): void {
    for (const [queue, c] of this.counters) {
      this.sdb.stmt('UPDATE queues SET seq = ?, next_id = ? WHERE queue = ?').run(c.seq, c.nextId, queue);
    }
    this.counters.clear();
    this.events.flush();
  }

  /** Drops what a transaction kept in memory: it rolled back, or an attempt hit a busy file. */
  discardPending(): void {
    this.counters.clear();
    this.events.discard();
  }

  emit(queue: string, event: string, fields: Record<string, string | number | undefined> = {}): void {
    this.events.emit(queue, event, fields);
    this.emitted++;
  }

  /** Keeps the queue's newest `maxLen` events; returns how many went. */
  trimEvents(queue: string, maxLen: number): number {
    return this.events.trim(queue, maxLen);
  }

  row(queue: string, id: string): JobRow | undefined {
    return this.sdb.stmt('SELECT rowid, * FROM jobs WHERE queue = ? AND id = ?').get(queue, id) as JobRow | undefined;
  }

  /** Whether the job exists, without reading (and building) its row. */
  exists(queue: string, id: string): boolean {
    return this.sdb.rawStmt('SELECT 1 FROM jobs WHERE queue = ? AND id = ?', true).get(queue, id) !== undefined;
  }

  /**
   * What finishing a job needs of its row: the lock (state, token, sort) and what the follow-ups
   * read (parent for flows, opts for deduplication, rowid and id for retention), not `data`.
   * Read in raw mode and built here: a narrow object is cheap to make, a better-sqlite3 row is not.
   */
  finishRow(queue: string, id: string): FinishRow | undefined {
    // Whether a child still blocks the finish comes in the same statement: one statement fewer per
    // completion (~2 µs); `Flows.finishBlocker` then runs only for the rare job that has one.
    const r = this.sdb
      .rawStmt(
        `SELECT rowid, id, state, token, sort, parent, opts, EXISTS (SELECT 1 FROM deps WHERE parent_queue = ?
           AND parent_id = ? AND status IN ('pending', 'failed')) FROM jobs WHERE queue = ? AND id = ?`,
      )
      .get(queue, id, queue, id) as
      | [number, string, string, string | null, number, string | null, string, number]
      | undefined;
    if (!r) return undefined;
    return {
      rowid: r[0],
      id: r[1],
      state: r[2],
      token: r[3],
      sort: r[4],
      parent: r[5],
      opts: r[6],
      childBlocks: r[7] === 1,
    };
  }

  insert(queue: string, id: string, job: NewJob, waitingChildren = false): void {
    const delayed = job.delay > 0 && !waitingChildren;
    const placement = waitingChildren
      ? { state: 'waiting-children', lane: 0, sort: job.timestamp }
      : delayed
        ? { state: 'delayed', lane: 0, sort: job.timestamp + job.delay }
        : this.waitingPlace(queue, job.priority, job.lifo, false, job.group?.id);
    this.sdb
      .stmt(
        `INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo, parent, grp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        queue,
        id,
        placement.state,
        placement.lane,
        placement.sort,
        job.name,
        job.data,
        job.opts,
        job.timestamp,
        job.delay,
        job.priority,
        job.lifo ? 1 : 0,
        job.parent ? JSON.stringify(job.parent) : null,
        job.group?.id ?? null,
      );
    this.emit(queue, 'added', { jobId: id, name: job.name });
    if (waitingChildren) this.emit(queue, 'waiting-children', { jobId: id });
    else if (delayed) this.emit(queue, 'delayed', { jobId: id, delay: job.timestamp + job.delay });
    else this.emit(queue, 'waiting', { jobId: id });
  }

  /**
   * Where a job goes when it becomes runnable: its priority lane, FIFO within it; `lifo` puts a
   * non-prioritised job first (BullMQ ignores lifo for prioritized jobs), `head` any job first of
   * its lane (BullMQ's pushBackJobWithPriority). A job of group `grp` goes to its group's lane
   * (`priority - GROUP_LANE`), and the group is marked ready (a new group takes the last turn).
   */
  waitingPlace(
    queue: string,
    priority: number,
    lifo: boolean,
    head = false,
    grp?: string | null,
  ): { state: string; lane: number; sort: number } {
    const seq = this.nextSeq(queue);
    if (grp != null) {
      this.sdb
        .stmt(
          'INSERT INTO groups (queue, id, rr, ready) VALUES (?, ?, ?, 1) ON CONFLICT (queue, id) DO UPDATE SET ready = 1',
        )
        .run(queue, grp, seq);
      return { state: 'waiting', lane: priority - GROUP_LANE, sort: head ? -seq : seq };
    }
    return { state: 'waiting', lane: priority, sort: head || (lifo && priority === 0) ? -seq : seq };
  }

  /**
   * Moves a job to waiting (its lane), clearing the lock; emits `waiting`. `front` puts a
   * non-prioritised job next in line (stalled jobs); 'head' puts any job first of its lane, as
   * BullMQ gives a job back (moveToWait: rate limit, WaitingError), so it keeps its place.
   */
  toWaiting(queue: string, row: JobRow, prev?: string, front: boolean | 'head' = false): void {
    const place = this.waitingPlace(
      queue,
      row.priority,
      front === true || row.lifo === 1,
      front === 'head' || (front === true && row.grp !== null),
      row.grp,
    );
    this.sdb
      .stmt("UPDATE jobs SET state = 'waiting', lane = ?, sort = ?, token = NULL WHERE rowid = ?")
      .run(place.lane, place.sort, row.rowid);
    // A promoted job (promote, promoteJobs, or due) has no delay left: 0, as on Redis and in BullMQ.
    if (prev === 'delayed') this.sdb.stmt('UPDATE jobs SET delay = 0 WHERE rowid = ?').run(row.rowid);
    this.emit(queue, 'waiting', prev ? { jobId: row.id, prev } : { jobId: row.id });
  }

  /** With `delay`, the job's delay becomes it (a retry's backoff, a step's wait), as on Redis. */
  toDelayed(queue: string, row: JobRow, due: number, delay?: number): void {
    this.sdb
      .stmt("UPDATE jobs SET state = 'delayed', lane = 0, sort = ?, token = NULL WHERE rowid = ?")
      .run(due, row.rowid);
    if (delay !== undefined) this.sdb.stmt('UPDATE jobs SET delay = ? WHERE rowid = ?').run(delay, row.rowid);
    this.emit(queue, 'delayed', { jobId: row.id, delay: due });
  }

  promoteDue(queue: string, now: number): void {
    const due = this.sdb
      .stmt(
        "SELECT rowid, * FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 AND sort <= ? ORDER BY sort LIMIT 1000",
      )
      .all(queue, now) as JobRow[];
    for (const row of due) this.toWaiting(queue, row, 'delayed');
  }

  /** Due time of the queue's earliest delayed job. */
  /**
   * Checks that `token` holds a live lock on the active job `row` (BullMQ's codes). No token (or the
   * empty one, BullMQ's '0') skips the lock check: the job need only be active.
   */
  lockCode(
    row: Pick<JobRow, 'state' | 'token' | 'sort'> | undefined,
    token: string | undefined,
    _now: number, // locks are judged on lockClock(), not the caller's time
  ): MoveCode {
    if (!row) return -1;
    if (token === undefined || token === '') return row.state === 'active' ? 0 : -3;
    if (row.state !== 'active' || row.token === null || row.sort < this.lockClock()) return -2;
    if (row.token !== token) return -6;
    return 0;
  }

  /** Set by flows.ts: takes a deleted child (before its row goes) out of its parent's pending children. */
  childRemoved?: (queue: string, id: string, parent: string, now: number, hard: Removal['hard']) => void;

  /** Deletes a job, its logs and children links; with `parent` and `how`, tells `childRemoved` first. */
  deleteJob(queue: string, id: string, rowid: number, parent: string | null = null, how?: Removal): void {
    if (parent && how) this.childRemoved?.(queue, id, parent, how.now, how.hard);
    this.sdb.stmt('DELETE FROM jobs WHERE rowid = ?').run(rowid);
    this.sdb.stmt('DELETE FROM logs WHERE queue = ? AND job_id = ?').run(queue, id);
    this.sdb.stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ?').run(queue, id);
  }

  /** Whether any job of the queue is waiting or active (an index probe, unlike a count). */
  hasWaitingOrActive(queue: string): boolean {
    return !!this.sdb
      .rawStmt("SELECT 1 FROM jobs WHERE queue = ? AND state IN ('waiting', 'active') LIMIT 1")
      .get(queue);
  }

  /** The single number a counting statement answers. */
  sdbCount(sql: string, ...params: (string | number)[]): number {
    return this.sdb.rawStmt(sql, true).get(...params) as number;
  }

  waitingCount(queue: string): number {
    return (
      this.sdb.stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'waiting'").get(queue) as { n: number }
    ).n;
  }
}

/** The columns of a job row `finishRow` reads. */
export type FinishRow = Pick<JobRow, 'rowid' | 'id' | 'state' | 'token' | 'sort' | 'parent' | 'opts'> & {
  /** A child is pending, or failed under failParentOnFailure: `Flows.finishBlocker` says which. */
  childBlocks: boolean;
};

/**
 * How a child leaves its parent when deleted: `hard` (clean, drain) may delete the parent too;
 * 'queue' (obliterate: the whole queue goes) only tells parents in other queues.
 */
export type Removal = { now: number; hard: boolean | 'queue' };
