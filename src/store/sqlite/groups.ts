import { FETCHED_COLUMNS } from '../sql/rows.js';
import type { FetchRequest, JobRecord } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/** A `groups` row as the grouped fetch reads it (schema.ts). */
interface GroupTurn {
  id: string;
  rr: number;
  concurrency: number | null;
  limit_max: number | null;
  limit_duration: number | null;
  window_end: number;
  window_count: number;
  rate_limit_until: number;
}

/** Ready groups read per statement while a fetch goes round them. */
const TURNS_PER_READ = 16;

/**
 * Groups on SQLite (issue 22, BullMQ Pro's groups): the round-robin fetch of grouped jobs. A grouped
 * job waits in its group's lane (transitions.ts GROUP_LANE); `groups.rr` orders the groups' turns.
 * Active jobs per group are counted from the jobs table, never kept as a number, so every way a job
 * leaves active (completion, failure, stall recovery, removal) frees its group's slot by itself.
 */
export class GroupFetch {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {
    t.fetching.takeGrouped = (queue, req, n, from, lockUntil) => this.take(queue, req, n, from, lockUntil);
    t.fetching.takeBatch = (queue, req, n) => this.takeBatch(queue, req, n);
  }

  /**
   * A worker's batch (issue 23; the rules: store/types.ts BatchFetch). With groupAffinity: the queue's
   * own waiting jobs while there are any, else one group's (takeOneGroup); without it, any fetch's
   * jobs, `minJobs` counting only while no group is ready.
   */
  private takeBatch(queue: string, req: FetchRequest, n: number): JobRecord[] {
    const min = Math.min(Math.max(1, req.batch?.minJobs ?? 1), n);
    const own = this.sdb
      .rawStmt(
        "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE queue = ? AND state = 'waiting' AND lane >= 0 LIMIT ?)",
        true,
      )
      .get(queue, min) as number;
    const grouped = !!this.sdb.rawStmt('SELECT 1 FROM groups WHERE queue = ? AND ready = 1 LIMIT 1').get(queue);
    if (req.batch?.groupAffinity) {
      if (own > 0) return own >= min ? this.t.fetching.take(queue, req, n) : [];
      return grouped ? this.takeOneGroup(queue, req, n, min) : [];
    }
    if (own < min && !grouped) return [];
    return this.t.fetching.takeMixed(queue, req, n);
  }

  /**
   * A batch of one group (groupAffinity): the first group in turn that may start a job gives as many
   * as it may start, up to `n` (a short batch rather than another group's jobs). With `min`, nothing
   * is taken unless that group has `min` jobs waiting: BullMQ Pro waits for the next group in turn.
   */
  private takeOneGroup(queue: string, req: FetchRequest, n: number, min: number): JobRecord[] {
    const turns = this.sdb.stmt(
      `SELECT id, rr, concurrency, limit_max, limit_duration, window_end, window_count, rate_limit_until
         FROM groups WHERE queue = ? AND ready = 1 AND rr > ? AND paused = 0 ORDER BY rr LIMIT ${TURNS_PER_READ}`,
    );
    let cursor = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const groups = turns.all(queue, cursor) as GroupTurn[];
      if (groups.length === 0) return [];
      for (const g of groups) {
        cursor = g.rr;
        const window = this.room(queue, g, req);
        if (!window) continue;
        if (window.wakeAt !== undefined) {
          this.t.fetching.groupWakeAt = Math.min(this.t.fetching.groupWakeAt ?? window.wakeAt, window.wakeAt);
          continue;
        }
        let cap = n;
        const concurrency = g.concurrency ?? req.group?.concurrency;
        if (concurrency !== undefined) cap = Math.min(cap, concurrency - this.activeCount(queue, g.id));
        const max = g.limit_max ?? req.group?.limit?.max;
        if (max !== undefined && (g.limit_duration ?? req.group?.limit?.duration) !== undefined)
          cap = Math.min(cap, Math.max(1, max) - window.count);
        const rows = this.sdb
          .rawStmt(
            `SELECT ${FETCHED_COLUMNS} FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT ?`,
          )
          .all(queue, g.id, Math.max(cap, min)) as unknown[][];
        if (rows.length === 0) {
          this.sdb.stmt('UPDATE groups SET ready = 0 WHERE queue = ? AND id = ?').run(queue, g.id);
          continue;
        }
        if (rows.length < min) return [];
        const lockUntil = this.t.lockClock() + req.lockDuration;
        const jobs = rows
          .slice(0, cap)
          .map((row, i) => this.t.fetching.activate(queue, row, req, req.tokens[i], lockUntil));
        // Its next turn comes after every other group's; the window counts these starts.
        this.sdb
          .stmt('UPDATE groups SET rr = ?, window_end = ?, window_count = ? WHERE queue = ? AND id = ?')
          .run(this.t.nextSeq(queue), window.end, window.count + jobs.length, queue, g.id);
        return jobs;
      }
    }
  }

  /**
   * Takes up to `n` grouped jobs, one per group per turn: groups in `rr` order, each served group
   * going last (a new `rr`), so a group with one job waits behind at most one job of every other
   * group. A paused group, one at its concurrency or in a used-up rate window is passed over (it
   * keeps its turn); a group found without waiting jobs stops being ready.
   */
  take(queue: string, req: FetchRequest, n: number, from: number, lockUntil: number): JobRecord[] {
    const jobs: JobRecord[] = [];
    const turns = this.sdb.stmt(
      `SELECT id, rr, concurrency, limit_max, limit_duration, window_end, window_count, rate_limit_until
         FROM groups WHERE queue = ? AND ready = 1 AND rr > ? AND paused = 0 ORDER BY rr LIMIT ${TURNS_PER_READ}`,
    );
    const next = this.sdb.rawStmt(
      `SELECT ${FETCHED_COLUMNS} FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT 1`,
    );
    let cursor = Number.MIN_SAFE_INTEGER;
    while (jobs.length < n) {
      const groups = turns.all(queue, cursor) as GroupTurn[];
      if (groups.length === 0) break;
      for (const g of groups) {
        if (jobs.length >= n) break;
        cursor = g.rr;
        const window = this.room(queue, g, req);
        if (!window) continue;
        if (window.wakeAt !== undefined) {
          this.t.fetching.groupWakeAt = Math.min(this.t.fetching.groupWakeAt ?? window.wakeAt, window.wakeAt);
          continue;
        }
        const row = next.get(queue, g.id) as unknown[] | undefined;
        if (!row) {
          this.sdb.stmt('UPDATE groups SET ready = 0 WHERE queue = ? AND id = ?').run(queue, g.id);
          continue;
        }
        jobs.push(this.t.fetching.activate(queue, row, req, req.tokens[from + jobs.length], lockUntil));
        // Its next turn comes after every other group's; the window counts this start.
        this.sdb
          .stmt('UPDATE groups SET rr = ?, window_end = ?, window_count = ? WHERE queue = ? AND id = ?')
          .run(this.t.nextSeq(queue), window.end, window.count + 1, queue, g.id);
      }
    }
    return jobs;
  }

  /**
   * Whether group `g` may start a job now, and its rate window (end, starts so far) if so. The
   * group's own concurrency / limit win over the worker's (BullMQ Pro's local group settings).
   */
  private room(
    queue: string,
    g: GroupTurn,
    req: FetchRequest,
  ): { end: number; count: number; wakeAt?: number } | undefined {
    const now = req.now;
    if (g.rate_limit_until > now) return { end: 0, count: 0, wakeAt: g.rate_limit_until };
    const concurrency = g.concurrency ?? req.group?.concurrency;
    if (concurrency !== undefined && this.activeCount(queue, g.id) >= concurrency) return undefined;
    const max = g.limit_max ?? req.group?.limit?.max;
    const duration = g.limit_duration ?? req.group?.limit?.duration;
    if (max === undefined || duration === undefined) return { end: g.window_end, count: g.window_count };
    if (g.window_end <= now) return { end: now + duration, count: 0 };
    if (g.window_count >= Math.max(1, max)) return { end: 0, count: 0, wakeAt: g.window_end };
    return { end: g.window_end, count: g.window_count };
  }

  activeCount(queue: string, id: string): number {
    return this.sdb
      .rawStmt("SELECT count(*) FROM jobs WHERE queue = ? AND grp = ? AND state = 'active'", true)
      .get(queue, id) as number;
  }
}
