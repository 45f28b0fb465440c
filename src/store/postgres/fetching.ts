import { fetchStart, wakeForGroups } from '../sql/fetch-result.js';
import { limiterWindow } from '../sql/limiter.js';
import { type JobRow, type QueueRow, toRecord } from '../sql/rows.js';
import type { FetchRequest, FetchResult, JobRecord } from '../store.js';
import { takeBatch } from './batch-fetch.js';
import type { Conn } from './conn.js';
import { takeGrouped } from './groups.js';
import { FETCH_META } from './transition-sql.js';
import type { Transitions } from './transitions.js';

/**
 * A fetch (waiting → active) inside one transaction: promotes due delayed jobs, honours pause, rate
 * limits and global concurrency, then takes the queue's own waiting jobs and, when those run short,
 * grouped ones (groups.ts). Mirrors the fetch of src/store/sqlite/transitions.ts; one per call of
 * Transitions.fetch.
 */
export class Fetching {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  private async nextDelayed(queue: string): Promise<number | undefined> {
    return (await this.db
      .rawStmt("SELECT sort FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort LIMIT 1", true)
      .get(queue)) as number | undefined;
  }

  async fetch(queue: string, req: FetchRequest): Promise<FetchResult> {
    const now = req.now;
    // The queue's row and its earliest delayed job in one read (the row nearly always exists).
    const sent = this.db.takePrelude('meta'); // FETCH_META, read with BEGIN by a fetch that is the whole transition
    let meta = (sent ? sent[0] : await this.db.stmt(FETCH_META.replaceAll(':queue', '?')).get(queue, queue, queue)) as
      | (QueueRow & { next_delayed: number | null; has_groups: boolean })
      | undefined;
    // Read with the queue's row: a queue without ready groups pays no round trip for them (takeAll).
    this.readyGroups = meta ? meta.has_groups : undefined;
    let next = meta ? (meta.next_delayed ?? undefined) : await this.nextDelayed(queue);
    if (next !== undefined && next <= now) {
      await this.t.promoteDue(queue, now);
      this.readyGroups = undefined; // a promoted grouped job may have made its group ready
      next = await this.nextDelayed(queue);
    }
    meta ??= { ...(await this.t.meta(queue)), next_delayed: null, has_groups: true };
    const { result, done } = fetchStart(meta, next, req);
    if (done) return result;
    let wanted = req.tokens.length;
    if (meta.concurrency !== null) {
      const active = (await this.db
        .stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'")
        .get(queue)) as { n: number };
      wanted = Math.min(wanted, meta.concurrency - (active.n - this.t.tail.finishing.length));
      if (wanted <= 0) return result;
    }
    const window = limiterWindow(meta, req, now);
    if (window) {
      if (window.room === 0) {
        result.rateLimitTtl = window.ttl;
        return result;
      }
      const rows = await this.takeAll(queue, req, Math.min(wanted, window.room));
      await this.db
        .stmt('UPDATE queues SET limiter_window_end = ?, limiter_count = ? WHERE queue = ?')
        .run(window.windowEnd, window.count + rows.length, queue);
      result.jobs = rows;
      return result;
    }
    this.groupWakeAt = undefined;
    result.jobs = await this.takeAll(queue, req, wanted);
    return wakeForGroups(result, this.groupWakeAt);
  }

  /** Set by the grouped fetch: when the earliest group it passed over for its rate limit may run again. */
  groupWakeAt: number | undefined;

  /** Whether the fetch's first read saw a ready group (undefined: not read, look). */
  private readyGroups: boolean | undefined;

  private async takeAll(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    return req.batch ? takeBatch(this.db, this.t, this, queue, req, n) : this.takeMixed(queue, req, n);
  }

  /** The queue's own waiting jobs first; grouped ones (BullMQ Pro: after them) only when those run short. */
  async takeMixed(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    const jobs = await this.take(queue, req, n);
    if (jobs.length >= n || this.readyGroups === false) return jobs;
    const more = await takeGrouped(this.db, this.t, this, queue, req, n - jobs.length, jobs.length);
    return more.length > 0 ? jobs.concat(more) : jobs;
  }

  /** Moves job `rowid` (waiting) to active under `token`; its record. */
  async activate(
    queue: string,
    rowid: number,
    req: FetchRequest,
    token: string,
    lockUntil: number,
  ): Promise<JobRecord> {
    const row = (await this.db
      .stmt(
        `UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ?, processed_on = ?,
           attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
         WHERE rowid = ? RETURNING *`,
      )
      .get(lockUntil, token, req.now, req.processedBy ?? null, rowid)) as JobRow;
    this.t.emit(queue, 'active', { jobId: row.id, prev: 'waiting' });
    return toRecord(row);
  }

  /**
   * Moves the first `n` waiting jobs to active, job i with lock `req.tokens[i]`, in one statement:
   * the jobs are picked in queue order and locked (SKIP LOCKED: one another transaction is moving is
   * passed over, not waited for), paired with the tokens by rank, updated, and returned as they are
   * now.
   */
  async take(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    if (n <= 0) return [];
    const lockUntil = (await this.t.lockClock()) + req.lockDuration;
    const rows = (await this.db
      .stmt(
        `WITH picked AS (
           SELECT rowid, lane, sort FROM jobs WHERE queue = ? AND state = 'waiting' AND lane >= 0
           ORDER BY lane, sort LIMIT ? FOR UPDATE SKIP LOCKED
         ), ranked AS (
           SELECT p.rowid, t.token, t.n FROM (SELECT rowid, row_number() OVER (ORDER BY lane, sort, rowid) AS n FROM picked) p
           JOIN unnest(?::text[]) WITH ORDINALITY AS t(token, n) ON t.n = p.n
         )
         UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ranked.token, processed_on = ?,
           attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
         FROM ranked WHERE jobs.rowid = ranked.rowid
         RETURNING ranked.n AS rank, jobs.*`,
      )
      .all(queue, n, req.tokens.slice(0, n), lockUntil, req.now, req.processedBy ?? null)) as (JobRow & {
      rank: number;
    })[];
    rows.sort((a, b) => a.rank - b.rank);
    return rows.map((row) => {
      this.t.emit(queue, 'active', { jobId: row.id, prev: 'waiting' });
      return toRecord(row);
    });
  }
}
