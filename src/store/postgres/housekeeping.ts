import type { JobRow } from '../sql/rows.js';
import type { MoveCode } from '../store.js';
import type { Conn } from './conn.js';
import { releaseDedup } from './dedup.js';
import type { FlowLinks } from './flows.js';
import { CURRENT_ITERATIONS } from './schedulers.js';
import type { Transitions } from './transitions.js';

/** Moves and bulk clean-ups outside the worker path (mirrors src/store/sqlite/housekeeping.ts). */
export class Housekeeping {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
  ) {}

  async promote(queue: string, id: string): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== 'delayed') return -3;
    await this.t.toWaiting(queue, row, 'delayed');
    return 0;
  }

  async promoteJobs(queue: string, count: number): Promise<number> {
    const rows = (await this.db
      .stmt("SELECT * FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort, rowid LIMIT ?")
      .all(queue, count)) as JobRow[];
    for (const row of rows) await this.t.toWaiting(queue, row, 'delayed');
    return rows.length;
  }

  private async resetToWaiting(
    queue: string,
    row: JobRow,
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<void> {
    await this.db
      .stmt(
        `UPDATE jobs SET returnvalue = NULL, failed_reason = NULL, finished_on = NULL, processed_on = NULL, steps = NULL,
           attempts_made = CASE WHEN ? THEN 0 ELSE attempts_made END,
           attempts_started = CASE WHEN ? THEN 0 ELSE attempts_started END WHERE rowid = ?`,
      )
      .run(!!reset.attemptsMade, !!reset.attemptsStarted, row.rowid);
    await this.f.childRetried(queue, row);
    await this.t.toWaiting(queue, row, row.state);
  }

  async retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== state) return -3;
    await this.resetToWaiting(queue, row, reset);
    return 0;
  }

  async retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number> {
    const rows = (await this.db
      .stmt('SELECT * FROM jobs WHERE queue = ? AND state = ? AND lane = 0 AND sort < ? ORDER BY sort LIMIT ?')
      .all(queue, state, Math.floor(timestamp) + 1, count)) as JobRow[]; // at or before: see finishPlace
    for (const row of rows) await this.resetToWaiting(queue, row, {});
    return rows.length;
  }

  async changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    if (!row) return -1;
    if (row.state !== 'delayed') return -3;
    await this.t.toDelayed(queue, row, now + delay, delay);
    return 0;
  }

  /** BullMQ's changePriority (see the SQLite store). */
  async changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    if (!row) return -1;
    await this.db.stmt('UPDATE jobs SET priority = ? WHERE rowid = ?').run(priority, row.rowid);
    if (row.state === 'waiting') {
      const place = await this.t.waitingPlace(queue, priority, false, lifo, row.grp);
      await this.db.stmt('UPDATE jobs SET lane = ?, sort = ? WHERE rowid = ?').run(place.lane, place.sort, row.rowid);
    }
    return 0;
  }

  async clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]> {
    const filter = cleanFilter(type);
    if (!filter) throw new Error(`Cannot clean jobs of type "${type}"`);
    if (type === 'paused' && (await this.t.meta(queue)).paused !== 1) return [];
    const age =
      filter.state === 'completed' || filter.state === 'failed'
        ? 'finished_on'
        : filter.state === 'active'
          ? 'processed_on'
          : 'timestamp';
    const rows = (await this.db
      .stmt(
        `SELECT rowid, id, state, lane, token, sort, parent, opts FROM jobs WHERE queue = ? AND state = ? ${filter.lane}
           AND coalesce(${age}, timestamp) <= ? AND id NOT IN (${CURRENT_ITERATIONS}) ORDER BY sort LIMIT ?`,
      )
      .all(queue, filter.state, now - graceMs, queue, limit > 0 ? limit : null)) as JobRow[];
    const removed: string[] = [];
    for (const row of rows) {
      if (row.state === 'active' && row.token !== null && row.sort > (await this.t.lockClock())) continue;
      // A parent in this queue deleted with its last pending child goes too (it may come later in `rows`).
      if (!(await this.t.exists(queue, row.id))) continue;
      await releaseDedup(this.db, queue, row);
      await this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: true });
      removed.push(row.id);
    }
    this.t.emit(queue, 'cleaned', { count: removed.length });
    return removed;
  }

  /** `now` only times a parent in another queue that leaves waiting-children with a delay. */
  async drain(queue: string, delayed: boolean, now: number): Promise<void> {
    const states = delayed ? "('waiting', 'delayed')" : "('waiting')";
    const rows = (await this.db
      .stmt(
        `SELECT rowid, id, parent, opts FROM jobs WHERE queue = ? AND state IN ${states} AND id NOT IN (${CURRENT_ITERATIONS})`,
      )
      .all(queue, queue)) as JobRow[];
    for (const row of rows) {
      if (!(await this.t.exists(queue, row.id))) continue;
      await releaseDedup(this.db, queue, row);
      await this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: true });
    }
  }

  /** `now` only times a parent in another queue that leaves waiting-children with a delay. */
  async obliterate(queue: string, force: boolean, count: number, now: number): Promise<number> {
    const active = (await this.db
      .stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'")
      .get(queue)) as { n: number };
    if (active.n > 0 && !force) return -1;
    const rows = (await this.db
      .stmt('SELECT rowid, id, parent, opts FROM jobs WHERE queue = ? LIMIT ?')
      .all(queue, count)) as JobRow[];
    for (const row of rows) {
      await releaseDedup(this.db, queue, row);
      await this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: 'queue' });
    }
    const left = ((await this.db.stmt('SELECT count(*) AS n FROM jobs WHERE queue = ?').get(queue)) as { n: number }).n;
    if (left === 0) {
      await this.db.stmt('DELETE FROM events WHERE queue = ?').run(queue);
      await this.db.stmt('DELETE FROM logs WHERE queue = ?').run(queue);
      await this.db.stmt('DELETE FROM queues WHERE queue = ?').run(queue);
      await this.db.stmt('DELETE FROM groups WHERE queue = ?').run(queue);
      await this.db.stmt('DELETE FROM minute_counts WHERE queue = ?').run(queue);
      await this.db.stmt('DELETE FROM state_counts WHERE queue = ?').run(queue);
      // What else the queue owns, as BullMQ's obliterate deletes every key of the queue.
      for (const table of ['schedulers', 'metrics', 'dedup', 'workers']) {
        await this.db.stmt(`DELETE FROM ${table} WHERE queue = ?`).run(queue);
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
