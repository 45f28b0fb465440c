import { fetchStart, wakeForGroups } from '../sql/fetch-result.js';
import { limiterWindow } from '../sql/limiter.js';
import { FETCHED_COLUMNS, fetchedRecord, type QueueRow } from '../sql/rows.js';
import type { FetchRequest, FetchResult, JobRecord } from '../store.js';
import type { SharedDatabase } from './database.js';

/**
 * The next waiting jobs in queue order. `LIMIT +?`, not a bare `?`: SQLite's planner reads a bare
 * LIMIT parameter, so binding it again expires the statement and every call re-prepared it
 * (measured ~10 µs, more than the query itself); `+?` is only evaluated when the statement runs.
 */
const SELECT_WAITING = `SELECT ${FETCHED_COLUMNS} FROM jobs WHERE queue = ? AND state = 'waiting' AND lane >= 0
  ORDER BY lane, sort LIMIT +?`;

/** What a fetch uses of the transaction's building blocks (transitions.ts Transitions). */
export interface FetchSteps {
  meta(queue: string): QueueRow;
  promoteDue(queue: string, now: number): void;
  lockClock(): number;
  emit(queue: string, event: string, fields?: Record<string, string | number | undefined>): void;
}

/**
 * A worker's fetch on SQLite, inside the caller's write transaction: due delayed jobs promoted, the
 * queue's conditions (fetch-result.ts), concurrency and rate limits, then the queue's own waiting jobs
 * taken to active, grouped ones after them (groups.ts hooks `takeGrouped` and `takeBatch` in).
 */
export class SqliteFetch {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: FetchSteps,
  ) {}

  private nextDelayed(queue: string): number | undefined {
    return this.sdb
      .rawStmt("SELECT sort FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort LIMIT 1", true)
      .get(queue) as number | undefined;
  }

  fetch(queue: string, req: FetchRequest): FetchResult {
    const now = req.now;
    // The earliest delayed job tells whether any is due: promote only then (and look again after).
    let next = this.nextDelayed(queue);
    if (next !== undefined && next <= now) {
      this.t.promoteDue(queue, now);
      next = this.nextDelayed(queue);
    }
    const meta = this.t.meta(queue);
    const { result, done } = fetchStart(meta, next, req);
    if (done) return result;
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
    const window = limiterWindow(meta, req, now);
    if (window) {
      if (window.room === 0) {
        result.rateLimitTtl = window.ttl;
        return result;
      }
      const rows = this.takeAll(queue, req, Math.min(wanted, window.room));
      this.sdb
        .stmt('UPDATE queues SET limiter_window_end = ?, limiter_count = ? WHERE queue = ?')
        .run(window.windowEnd, window.count + rows.length, queue);
      result.jobs = rows;
      return result;
    }
    this.groupWakeAt = undefined;
    result.jobs = this.takeAll(queue, req, wanted);
    return wakeForGroups(result, this.groupWakeAt);
  }

  /** Set by the grouped fetch: when the earliest group it passed over for its rate limit may run again. */
  groupWakeAt: number | undefined;

  /** Set by the store: takes up to `n` grouped jobs, round-robin, with tokens from `req.tokens[from]`. */
  takeGrouped?: (queue: string, req: FetchRequest, n: number, from: number, lockUntil: number) => JobRecord[];

  /** Set by the store: takes a worker's batch (FetchRequest.batch; groups.ts takeBatch). */
  takeBatch?: (queue: string, req: FetchRequest, n: number) => JobRecord[];

  private takeAll(queue: string, req: FetchRequest, n: number): JobRecord[] {
    return req.batch && this.takeBatch ? this.takeBatch(queue, req, n) : this.takeMixed(queue, req, n);
  }

  /** The queue's own waiting jobs first; grouped ones (BullMQ Pro: after them) only when those run short. */
  takeMixed(queue: string, req: FetchRequest, n: number): JobRecord[] {
    const jobs = this.take(queue, req, n);
    if (jobs.length < n && this.takeGrouped) {
      const more = this.takeGrouped(queue, req, n - jobs.length, jobs.length, this.t.lockClock() + req.lockDuration);
      if (more.length > 0) return jobs.concat(more);
    }
    return jobs;
  }

  /** Moves a job (`row`: raw FETCHED_COLUMNS) to active under `token`; its record. */
  activate(queue: string, row: unknown[], req: FetchRequest, token: string, lockUntil: number): JobRecord {
    this.sdb
      .stmt(
        `UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ?, processed_on = ?,
           attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
         WHERE rowid = ?`,
      )
      .run(lockUntil, token, req.now, req.processedBy ?? null, row[0]);
    this.t.emit(queue, 'active', { jobId: row[1] as string, prev: 'waiting' });
    return fetchedRecord(row, { token, processedOn: req.now, processedBy: req.processedBy });
  }

  /**
   * Moves the first `n` waiting jobs (lane, then sort) to active, job i with lock `req.tokens[i]`.
   * One raw read of the batch, then a plain UPDATE per job: the records are built from what was
   * read plus what the UPDATE sets. (A RETURNING clause, or one UPDATE ... FROM json_each for the
   * whole batch, measured slower: both have a fixed cost per statement larger than the row work.)
   */
  take(queue: string, req: FetchRequest, n: number): JobRecord[] {
    const rows = this.sdb.rawStmt(SELECT_WAITING).all(queue, n) as unknown[][];
    const activate = this.sdb.stmt(
      `UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ?, processed_on = ?,
         attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
       WHERE rowid = ?`,
    );
    const lockUntil = this.t.lockClock() + req.lockDuration;
    const processedBy = req.processedBy ?? null;
    return rows.map((row, i) => {
      const token = req.tokens[i];
      activate.run(lockUntil, token, req.now, processedBy, row[0]);
      this.t.emit(queue, 'active', { jobId: row[1] as string, prev: 'waiting' });
      return fetchedRecord(row, { token, processedOn: req.now, processedBy: req.processedBy });
    });
  }
}
