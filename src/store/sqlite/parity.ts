import { metricPoints } from '../metric-points.js';
import { toMinuteCounts } from '../minute-counts.js';
import { type JobRow, stateOf } from '../sql/rows.js';
import type { MetricsRead, MinuteCount, WorkerInfo } from '../store.js';
import { MINUTE_COUNTS_KEPT } from '../types.js';
import type { SharedDatabase } from './database.js';
import { DedupIds, releaseDedup } from './dedup.js';
import type { FlowLinks } from './flows.js';
import { isCurrentIteration } from './schedulers.js';
import type { Transitions } from './transitions.js';

const MINUTE = 60_000;

/** BullMQ-parity features on SQLite: dedup, metrics, workers, child unlinking. Runs inside the caller's transaction. */
export class Parity {
  /** Deduplication ids (dedup.ts). */
  readonly dedup: DedupIds;

  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
  ) {
    this.dedup = new DedupIds(sdb, t);
  }

  // ── metrics ────────────────────────────────────────────────────────────────────

  recordMetric(queue: string, type: 'completed' | 'failed', now: number, maxPoints: number): void {
    const minute = Math.floor(now / MINUTE);
    const bump = this.sdb.stmt(
      'INSERT INTO metrics (queue, type, minute, count) VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1',
    );
    bump.run(queue, type, minute);
    bump.run(queue, type, -1);
    // Row -1 holds the total, row -2 the first minute recorded (in `count`).
    this.sdb
      .stmt('INSERT OR IGNORE INTO metrics (queue, type, minute, count) VALUES (?, ?, -2, ?)')
      .run(queue, type, minute);
    this.sdb.stmt('UPDATE queues SET metrics_points = ? WHERE queue = ?').run(maxPoints, queue);
    // BullMQ's points are the minutes before the newest: maxPoints of them plus the newest are kept.
    this.sdb
      .stmt('DELETE FROM metrics WHERE queue = ? AND type = ? AND minute >= 0 AND minute < ?')
      .run(queue, type, minute - maxPoints);
  }

  /**
   * Adds `n` jobs of `kind` ('c' completed, 'f' failed for good, 's' stalled) to the minute of `now`
   * (the always-on counts of Store.getMinuteCounts): one UPSERT per transition and kind. The row's
   * first write opens a new minute, and only then are the queue's minutes past the kept window deleted.
   */
  countMinute(queue: string, kind: 'c' | 'f' | 's', n: number, now: number): void {
    if (n <= 0) return;
    const minute = Math.floor(now / MINUTE);
    const row = this.sdb
      .stmt(
        'INSERT INTO minute_counts (queue, minute, kind, n) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n RETURNING n',
      )
      .get(queue, minute, kind, n) as { n: number };
    if (row.n === n) {
      this.sdb
        .stmt('DELETE FROM minute_counts WHERE queue = ? AND minute <= ?')
        .run(queue, minute - MINUTE_COUNTS_KEPT);
    }
  }

  getMinuteCounts(queue: string, sinceMinute: number): MinuteCount[] {
    const rows = this.sdb
      .stmt('SELECT minute, kind, n FROM minute_counts WHERE queue = ? AND minute >= ?')
      .all(queue, sinceMinute) as { minute: number; kind: string; n: number }[];
    return toMinuteCounts(rows, sinceMinute);
  }

  getMetrics(queue: string, type: 'completed' | 'failed', _now: number): MetricsRead {
    const rows = this.sdb.stmt('SELECT minute, count FROM metrics WHERE queue = ? AND type = ?').all(queue, type) as {
      minute: number;
      count: number;
    }[];
    const total = rows.find((r) => r.minute === -1)?.count ?? 0;
    const minutes = rows.filter((r) => r.minute >= 0).map((r) => r.minute);
    if (total === 0 || minutes.length === 0) return { count: total, data: [], prevCount: 0, prevTS: 0 };
    const points =
      (
        this.sdb.stmt('SELECT metrics_points FROM queues WHERE queue = ?').get(queue) as {
          metrics_points: number | null;
        }
      )?.metrics_points ?? 0;
    const byMinute = new Map(rows.filter((r) => r.minute >= 0).map((r) => [r.minute, r.count]));
    // Row -2 is absent where older Docket recorded: the oldest kept minute stands in.
    const first = rows.find((r) => r.minute === -2)?.count ?? Math.min(...minutes);
    return metricPoints(total, byMinute, Math.max(...minutes), first, points);
  }

  // ── workers ────────────────────────────────────────────────────────────────────

  registerWorker(queue: string, info: WorkerInfo, ttlMs: number): void {
    this.sdb
      .stmt('INSERT OR REPLACE INTO workers (queue, id, info, expires_at) VALUES (?, ?, ?, ?)')
      .run(queue, info.id, JSON.stringify(info), info.heartbeat + ttlMs);
  }

  unregisterWorker(queue: string, id: string): void {
    this.sdb.stmt('DELETE FROM workers WHERE queue = ? AND id = ?').run(queue, id);
  }

  getWorkers(queue: string, now: number): WorkerInfo[] {
    const rows = this.sdb
      .stmt('SELECT info FROM workers WHERE queue = ? AND expires_at >= ? ORDER BY id')
      .all(queue, now) as {
      info: string;
    }[];
    return rows.map((r) => JSON.parse(r.info) as WorkerInfo);
  }

  // ── counts and children ────────────────────────────────────────────────────────

  countsPerPriority(queue: string, priorities: number[]): Record<string, number> {
    const count = this.sdb.stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'waiting' AND lane = ?");
    return Object.fromEntries(priorities.map((p) => [String(p), (count.get(queue, p) as { n: number }).n]));
  }

  removeChildDependency(queue: string, id: string, now: number): number {
    return this.f.unlink(queue, id, now);
  }

  private locked(row: Pick<JobRow, 'state' | 'token' | 'sort'>, _now: number): boolean {
    return row.state === 'active' && row.token !== null && row.sort >= this.t.lockClock();
  }

  /** Whether the job, or with `children` one of its pending children (recursively), is locked. */
  private lockedTree(queue: string, row: JobRow, now: number, children: boolean): boolean {
    if (this.locked(row, now)) return true;
    if (!children) return false;
    for (const key of this.childKeys(queue, row.id, "AND status = 'pending'")) {
      const child = this.childRow(key);
      if (child && this.lockedTree(child.queue, child, now, true)) return true;
    }
    return false;
  }

  private childKeys(queue: string, id: string, filter = ''): string[] {
    const rows = this.sdb
      .stmt(`SELECT child_key FROM deps WHERE parent_queue = ? AND parent_id = ? ${filter}`)
      .all(queue, id) as { child_key: string }[];
    return rows.map((r) => r.child_key);
  }

  private childRow(key: string): JobRow | undefined {
    const at = key.lastIndexOf(':');
    return this.t.row(key.slice(0, at), key.slice(at + 1));
  }

  /** `remove` on SQLite: see Store.remove. Nothing is removed while a job of the tree is locked. */
  removeJob(queue: string, id: string, now: number, removeChildren: boolean): number {
    const row = this.t.row(queue, id);
    if (!row || this.lockedTree(queue, row, now, removeChildren)) return 0;
    if (isCurrentIteration(this.sdb, queue, id)) return -8;
    if (removeChildren) this.removeChildrenOf(queue, id, now);
    releaseDedup(this.sdb, queue, row);
    this.t.deleteJob(queue, id, row.rowid, row.parent, { now, hard: false });
    this.t.emit(queue, 'removed', { jobId: id, prev: stateOf(row) });
    return 1;
  }

  private removeChildrenOf(queue: string, id: string, now: number): void {
    for (const key of this.childKeys(queue, id)) {
      const child = this.childRow(key);
      if (!child || this.locked(child, now)) continue;
      this.removeChildrenOf(child.queue, child.id, now);
      releaseDedup(this.sdb, child.queue, child);
      this.t.deleteJob(child.queue, child.id, child.rowid);
      this.t.emit(child.queue, 'removed', { jobId: child.id, prev: stateOf(child) });
      this.t.touched.add(child.queue);
    }
  }

  /**
   * Removes the parent's pending children that neither run (live lock) nor failed, with their own
   * unprocessed children; a parent left with no pending child moves on (BullMQ's
   * removeUnprocessedChildren).
   */
  removeUnprocessedChildren(queue: string, id: string, now: number): void {
    for (const key of this.childKeys(queue, id, "AND status = 'pending'")) {
      const child = this.childRow(key);
      if (!child) {
        this.sdb
          .stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
          .run(queue, id, key);
        continue;
      }
      if (this.locked(child, now) || child.state === 'failed') continue;
      this.removeUnprocessedChildren(child.queue, child.id, now);
      releaseDedup(this.sdb, child.queue, child);
      this.t.deleteJob(child.queue, child.id, child.rowid, child.parent, { now, hard: false });
      this.t.emit(child.queue, 'removed', { jobId: child.id, prev: stateOf(child) });
      this.t.touched.add(child.queue);
    }
  }
}
