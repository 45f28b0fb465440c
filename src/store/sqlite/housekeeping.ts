import type { JobRow } from '../sql/rows.js';
import type { MoveCode } from '../store.js';
import type { SharedDatabase } from './database.js';
import { releaseDedup } from './dedup.js';
import type { FlowLinks } from './flows.js';
import { CURRENT_ITERATIONS } from './schedulers.js';
import type { Transitions } from './transitions.js';

/** Moves and bulk clean-ups outside the worker path; each runs inside the caller's transaction. */
export class Housekeeping {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
  ) {}

  promote(queue: string, id: string): MoveCode {
    const row = this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== 'delayed') return -3;
    this.t.toWaiting(queue, row, 'delayed');
    return 0;
  }

  promoteJobs(queue: string, count: number): number {
    const rows = this.sdb
      .stmt("SELECT rowid, * FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort LIMIT ?")
      .all(queue, count) as JobRow[];
    for (const row of rows) this.t.toWaiting(queue, row, 'delayed');
    return rows.length;
  }

  private resetToWaiting(
    queue: string,
    row: JobRow,
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): void {
    this.sdb
      .stmt(
        `UPDATE jobs SET returnvalue = NULL, failed_reason = NULL, finished_on = NULL, processed_on = NULL, steps = NULL,
           attempts_made = CASE WHEN ? THEN 0 ELSE attempts_made END,
           attempts_started = CASE WHEN ? THEN 0 ELSE attempts_started END WHERE rowid = ?`,
      )
      .run(reset.attemptsMade ? 1 : 0, reset.attemptsStarted ? 1 : 0, row.rowid);
    this.f.childRetried(queue, row);
    this.t.toWaiting(queue, row, row.state);
  }

  retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): MoveCode {
    const row = this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== state) return -3;
    this.resetToWaiting(queue, row, reset);
    return 0;
  }

  retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): number {
    const rows = this.sdb
      .stmt('SELECT rowid, * FROM jobs WHERE queue = ? AND state = ? AND lane = 0 AND sort < ? ORDER BY sort LIMIT ?')
      .all(queue, state, Math.floor(timestamp) + 1, count) as JobRow[]; // at or before: see finishPlace
    // The attempt counters stay, as BullMQ's retryJobs keeps them (and the Redis store does).
    for (const row of rows) this.resetToWaiting(queue, row, {});
    return rows.length;
  }

  changeDelay(queue: string, id: string, delay: number, now: number): MoveCode {
    const row = this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== 'delayed') return -3;
    this.sdb.stmt('UPDATE jobs SET delay = ? WHERE rowid = ?').run(delay, row.rowid);
    this.t.toDelayed(queue, row, now + delay);
    return 0;
  }

  /** BullMQ's changePriority: a waiting job moves to its new lane (first of it with `lifo`, else last); the job's own lifo option stays. */
  changePriority(queue: string, id: string, priority: number, lifo: boolean): MoveCode {
    const row = this.t.row(queue, id);
    if (!row) return -1;
    this.sdb.stmt('UPDATE jobs SET priority = ? WHERE rowid = ?').run(priority, row.rowid);
    if (row.state === 'waiting') {
      const place = this.t.waitingPlace(queue, priority, false, lifo, row.grp);
      this.sdb.stmt('UPDATE jobs SET lane = ?, sort = ? WHERE rowid = ?').run(place.lane, place.sort, row.rowid);
    }
    return 0;
  }

  clean(queue: string, graceMs: number, limit: number, type: string, now: number): string[] {
    const filter = cleanFilter(type);
    if (!filter) throw new Error(`Cannot clean jobs of type "${type}"`);
    if (type === 'paused' && this.t.meta(queue).paused !== 1) return [];
    const age =
      filter.state === 'completed' || filter.state === 'failed'
        ? 'finished_on'
        : filter.state === 'active'
          ? 'processed_on'
          : 'timestamp';
    const rows = this.sdb
      .stmt(
        `SELECT rowid, id, state, lane, token, sort, parent, opts FROM jobs WHERE queue = ? AND state = ? ${filter.lane}
           AND coalesce(${age}, timestamp) <= ? AND id NOT IN (${CURRENT_ITERATIONS}) ORDER BY sort LIMIT ?`,
      )
      .all(queue, filter.state, now - graceMs, queue, limit > 0 ? limit : -1) as JobRow[];
    const removed: string[] = [];
    for (const row of rows) {
      if (row.state === 'active' && row.token !== null && row.sort > this.t.lockClock()) continue; // lock still live
      // A parent in this queue deleted with its last pending child goes too (it may come later in `rows`).
      if (!this.t.exists(queue, row.id)) continue;
      releaseDedup(this.sdb, queue, row);
      this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: true });
      removed.push(row.id);
    }
    this.t.emit(queue, 'cleaned', { count: removed.length });
    return removed;
  }

  /** `now` only times a parent in another queue that leaves waiting-children with a delay. */
  drain(queue: string, delayed: boolean, now: number): void {
    const states = delayed ? "('waiting', 'delayed')" : "('waiting')";
    const rows = this.sdb
      .stmt(
        `SELECT rowid, id, parent, opts FROM jobs WHERE queue = ? AND state IN ${states} AND id NOT IN (${CURRENT_ITERATIONS})`,
      )
      .all(queue, queue) as JobRow[];
    for (const row of rows) {
      if (!this.t.exists(queue, row.id)) continue;
      releaseDedup(this.sdb, queue, row);
      this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: true });
    }
  }

  /** `now` only times a parent in another queue that leaves waiting-children with a delay. */
  obliterate(queue: string, force: boolean, count: number, now: number): number {
    const active = this.sdb.stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'").get(queue) as {
      n: number;
    };
    if (active.n > 0 && !force) return -1;
    const rows = this.sdb
      .stmt('SELECT rowid, id, parent, opts FROM jobs WHERE queue = ? LIMIT ?')
      .all(queue, count) as JobRow[];
    for (const row of rows) {
      releaseDedup(this.sdb, queue, row);
      this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: 'queue' });
    }
    const left = (this.sdb.stmt('SELECT count(*) AS n FROM jobs WHERE queue = ?').get(queue) as { n: number }).n;
    if (left === 0) {
      this.sdb.stmt('DELETE FROM events WHERE queue = ?').run(queue);
      this.sdb.stmt('DELETE FROM logs WHERE queue = ?').run(queue);
      this.sdb.stmt('DELETE FROM queues WHERE queue = ?').run(queue);
      this.sdb.stmt('DELETE FROM groups WHERE queue = ?').run(queue);
      this.sdb.stmt('DELETE FROM minute_counts WHERE queue = ?').run(queue);
      this.sdb.stmt('DELETE FROM state_counts WHERE queue = ?').run(queue);
      // What else the queue owns, as BullMQ's obliterate deletes every key of the queue.
      for (const table of ['schedulers', 'metrics', 'dedup', 'workers']) {
        this.sdb.stmt(`DELETE FROM ${table} WHERE queue = ?`).run(queue);
      }
    }
    return left;
  }
}

function cleanFilter(type: string): { state: string; lane: string } | undefined {
  switch (type) {
    case 'completed':
    case 'failed':
    case 'active':
    case 'delayed':
      return { state: type, lane: '' };
    case 'wait':
    case 'waiting':
      return { state: 'waiting', lane: 'AND lane = 0' };
    case 'prioritized':
      return { state: 'waiting', lane: 'AND lane > 0' };
    case 'paused':
      return { state: 'waiting', lane: 'AND lane >= 0' }; // grouped jobs (lane < 0) are not the queue's list
    default:
      return undefined;
  }
}
