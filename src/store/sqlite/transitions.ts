import type { FetchRequest, FetchResult, JobRecord, MoveCode, NewJob, Retention } from '../store.js';
import type { SharedDatabase } from './database.js';
import { type JobRow, toRecord } from './rows.js';

/**
 * The building blocks of SQLite transitions. Each function runs inside a transaction opened by
 * the caller (`SharedDatabase.transact`), so a transition composed of several of them is still
 * one atomic step.
 */
export class Transitions {
  private eventsSinceTrim = 0;
  /** Other queues a transaction changed, to wake their waiters after commit. */
  readonly touched = new Set<string>();
  /** Events written so far: a transaction that wrote none changed nothing worth waking anyone for. */
  emitted = 0;

  constructor(
    private readonly sdb: SharedDatabase,
    private readonly maxEvents = 10_000,
  ) {}

  ensureQueue(queue: string): void {
    this.sdb.stmt('INSERT OR IGNORE INTO queues (queue) VALUES (?)').run(queue);
  }

  meta(queue: string): QueueRow {
    this.ensureQueue(queue);
    return this.sdb.stmt('SELECT * FROM queues WHERE queue = ?').get(queue) as QueueRow;
  }

  nextSeq(queue: string): number {
    return (
      this.sdb.stmt('UPDATE queues SET seq = seq + 1 WHERE queue = ? RETURNING seq').get(queue) as { seq: number }
    ).seq;
  }

  /** Events of the running transaction, written together by `flushEvents` before it commits. */
  private pendingEvents: [string, string, string][] = [];

  emit(queue: string, event: string, fields: Record<string, string | number | undefined> = {}): void {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) values[k] = String(v);
    this.pendingEvents.push([queue, event, JSON.stringify(values)]);
    this.emitted++;
  }

  /**
   * Writes the transaction's events with one statement (a JSON array unpacked by json_each): one
   * INSERT per event was the largest cost of a fetch or completion. Trims the log now and then.
   */
  flushEvents(): void {
    const events = this.pendingEvents;
    if (events.length === 0) return;
    this.pendingEvents = [];
    this.sdb
      .stmt(
        'INSERT INTO events (queue, event, fields) SELECT value->>0, value->>1, value->>2 FROM json_each(?) ORDER BY key',
      )
      .run(JSON.stringify(events));
    this.eventsSinceTrim += events.length;
    if (this.eventsSinceTrim >= 5000) {
      this.eventsSinceTrim = 0;
      for (const queue of new Set(events.map((e) => e[0]))) this.trimEvents(queue, this.maxEvents);
    }
  }

  /** Drops the events of a transaction that rolled back. */
  discardEvents(): void {
    this.pendingEvents = [];
  }

  trimEvents(queue: string, maxLen: number): void {
    const cut = this.sdb
      .stmt('SELECT id FROM events WHERE queue = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
      .get(queue, maxLen) as { id: number } | undefined;
    if (cut) this.sdb.stmt('DELETE FROM events WHERE queue = ? AND id <= ?').run(queue, cut.id);
  }

  row(queue: string, id: string): JobRow | undefined {
    return this.sdb.stmt('SELECT rowid, * FROM jobs WHERE queue = ? AND id = ?').get(queue, id) as JobRow | undefined;
  }

  insert(queue: string, id: string, job: NewJob, waitingChildren = false): void {
    const delayed = job.delay > 0 && !waitingChildren;
    const placement = waitingChildren
      ? { state: 'waiting-children', lane: 0, sort: job.timestamp }
      : delayed
        ? { state: 'delayed', lane: 0, sort: job.timestamp + job.delay }
        : this.waitingPlace(queue, job.priority, job.lifo);
    this.sdb
      .stmt(
        `INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo, parent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      );
    this.emit(queue, 'added', { jobId: id, name: job.name });
    if (waitingChildren) this.emit(queue, 'waiting-children', { jobId: id });
    else if (delayed) this.emit(queue, 'delayed', { jobId: id, delay: job.timestamp + job.delay });
    else this.emit(queue, 'waiting', { jobId: id });
  }

  /** Where a job goes when it becomes runnable: its priority lane, FIFO (or LIFO) within it. */
  waitingPlace(queue: string, priority: number, lifo: boolean): { state: string; lane: number; sort: number } {
    const seq = this.nextSeq(queue);
    return { state: 'waiting', lane: priority, sort: lifo && priority === 0 ? -seq : seq };
  }

  /**
   * Moves a job to waiting (its lane), clearing the lock; emits `waiting`. `front` puts a
   * non-prioritised job next in line, as BullMQ does for jobs given back (moveToWait, stalls).
   */
  toWaiting(queue: string, row: JobRow, prev?: string, front = false): void {
    const place = this.waitingPlace(queue, row.priority, front || row.lifo === 1);
    this.sdb
      .stmt("UPDATE jobs SET state = 'waiting', lane = ?, sort = ?, token = NULL WHERE rowid = ?")
      .run(place.lane, place.sort, row.rowid);
    this.emit(queue, 'waiting', prev ? { jobId: row.id, prev } : { jobId: row.id });
  }

  toDelayed(queue: string, row: JobRow, due: number): void {
    this.sdb
      .stmt("UPDATE jobs SET state = 'delayed', lane = 0, sort = ?, token = NULL WHERE rowid = ?")
      .run(due, row.rowid);
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

  /** Checks that `token` holds a live lock on the active job `row` (BullMQ's codes). */
  lockCode(row: JobRow | undefined, token: string | undefined, now: number): MoveCode {
    if (!row) return -1;
    if (token === undefined) return row.state === 'active' ? 0 : -3;
    if (row.state !== 'active' || row.token === null || row.sort < now) return -2;
    if (row.token !== token) return -6;
    return 0;
  }

  fetch(queue: string, req: FetchRequest): FetchResult {
    const now = req.now;
    this.promoteDue(queue, now);
    const meta = this.meta(queue);
    const result: FetchResult = { jobs: [], rateLimitTtl: 0, paused: meta.paused === 1 };
    const next = this.sdb
      .stmt("SELECT sort FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort LIMIT 1")
      .get(queue) as { sort: number } | undefined;
    if (next) result.nextDelayedAt = next.sort;
    if (result.paused || req.tokens.length === 0) return result;
    if (meta.rate_limit_until > now) {
      result.rateLimitTtl = meta.rate_limit_until - now;
      return result;
    }
    let wanted = req.tokens.length;
    if (meta.concurrency !== null) {
      const active = this.sdb
        .stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'")
        .get(queue) as {
        n: number;
      };
      wanted = Math.min(wanted, meta.concurrency - active.n);
      if (wanted <= 0) return result;
    }
    const limiter =
      meta.global_max !== null && meta.global_duration !== null
        ? { max: meta.global_max, duration: meta.global_duration }
        : req.limiter;
    if (limiter) {
      let { limiter_window_end: windowEnd, limiter_count: count } = meta;
      if (windowEnd <= now) {
        windowEnd = now + limiter.duration;
        count = 0;
      }
      if (count >= limiter.max) {
        result.rateLimitTtl = windowEnd - now;
        return result;
      }
      wanted = Math.min(wanted, limiter.max - count);
      const rows = this.take(queue, req, wanted);
      this.sdb
        .stmt('UPDATE queues SET limiter_window_end = ?, limiter_count = ? WHERE queue = ?')
        .run(windowEnd, count + rows.length, queue);
      result.jobs = rows;
      return result;
    }
    result.jobs = this.take(queue, req, wanted);
    return result;
  }

  private take(queue: string, req: FetchRequest, n: number): JobRecord[] {
    const rows = this.sdb
      .stmt("SELECT rowid, * FROM jobs WHERE queue = ? AND state = 'waiting' ORDER BY lane, sort LIMIT ?")
      .all(queue, n) as JobRow[];
    const update = this.sdb.stmt(
      `UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ?, processed_on = ?,
         attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
       WHERE rowid = ? RETURNING rowid, *`,
    );
    const lockUntil = req.now + req.lockDuration;
    return rows.map((row, i) => {
      const updated = update.get(lockUntil, req.tokens[i], req.now, req.processedBy ?? null, row.rowid) as JobRow;
      this.emit(queue, 'active', { jobId: row.id, prev: 'waiting' });
      return toRecord(updated);
    });
  }

  /** Deletes finished jobs of `state` that retention no longer keeps, the just-finished one included. */
  applyRetention(queue: string, state: 'completed' | 'failed', row: JobRow, keep: Retention, now: number): void {
    if (keep.remove) {
      this.deleteJob(queue, row.id, row.rowid);
      return;
    }
    if (keep.ageMs !== undefined) {
      const old = this.sdb
        .stmt('SELECT rowid, id FROM jobs WHERE queue = ? AND state = ? AND lane = 0 AND sort < ?')
        .all(queue, state, now - keep.ageMs) as { rowid: number; id: string }[];
      for (const r of old) this.deleteJob(queue, r.id, r.rowid);
    }
    if (keep.count !== undefined) {
      const extra = this.sdb
        .stmt(
          'SELECT rowid, id FROM jobs WHERE queue = ? AND state = ? AND lane = 0 ORDER BY sort DESC, rowid DESC LIMIT -1 OFFSET ?',
        )
        .all(queue, state, keep.count) as { rowid: number; id: string }[];
      for (const r of extra) this.deleteJob(queue, r.id, r.rowid);
    }
  }

  deleteJob(queue: string, id: string, rowid: number): void {
    this.sdb.stmt('DELETE FROM jobs WHERE rowid = ?').run(rowid);
    this.sdb.stmt('DELETE FROM logs WHERE queue = ? AND job_id = ?').run(queue, id);
    this.sdb.stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ?').run(queue, id);
  }

  waitingCount(queue: string): number {
    return (
      this.sdb.stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'waiting'").get(queue) as { n: number }
    ).n;
  }
}

export interface QueueRow {
  queue: string;
  paused: number;
  next_id: number;
  seq: number;
  rate_limit_until: number;
  limiter_window_end: number;
  limiter_count: number;
  stalled_check_until: number;
  concurrency: number | null;
  global_max: number | null;
  global_duration: number | null;
}
