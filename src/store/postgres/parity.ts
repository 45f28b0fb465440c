import { metricPoints } from '../metric-points.js';
import { type JobRow, stateOf } from '../sql/rows.js';
import type { MetricsRead, WorkerInfo } from '../store.js';
import type { Conn } from './conn.js';
import { DedupIds, releaseDedup } from './dedup.js';
import type { FlowLinks } from './flows.js';
import { isCurrentIteration } from './schedulers.js';
import type { Transitions } from './transitions.js';

const MINUTE = 60_000;

/** BullMQ-parity features: dedup, metrics, workers, child unlinking (mirrors src/store/sqlite/parity.ts). */
export class Parity {
  readonly dedup: DedupIds;

  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
  ) {
    this.dedup = new DedupIds(db, t);
  }

  // ── metrics ────────────────────────────────────────────────────────────────────

  async recordMetric(queue: string, type: 'completed' | 'failed', now: number, maxPoints: number): Promise<void> {
    const minute = Math.floor(now / MINUTE);
    // Row -1 holds the total, row -2 the first minute recorded (in `count`).
    await this.db
      .stmt(
        `INSERT INTO metrics (queue, type, minute, count) VALUES (?, ?, ?, 1), (?, ?, -1, 1)
         ON CONFLICT (queue, type, minute) DO UPDATE SET count = metrics.count + 1`,
      )
      .run(queue, type, minute, queue, type);
    await this.db
      .stmt('INSERT INTO metrics (queue, type, minute, count) VALUES (?, ?, -2, ?) ON CONFLICT DO NOTHING')
      .run(queue, type, minute);
    await this.db.stmt('UPDATE queues SET metrics_points = ? WHERE queue = ?').run(maxPoints, queue);
    await this.db
      .stmt('DELETE FROM metrics WHERE queue = ? AND type = ? AND minute >= 0 AND minute < ?')
      .run(queue, type, minute - maxPoints);
  }

  async getMetrics(queue: string, type: 'completed' | 'failed', _now: number): Promise<MetricsRead> {
    const rows = (await this.db
      .stmt('SELECT minute, count FROM metrics WHERE queue = ? AND type = ?')
      .all(queue, type)) as { minute: number; count: number }[];
    const total = rows.find((r) => r.minute === -1)?.count ?? 0;
    const minutes = rows.filter((r) => r.minute >= 0).map((r) => r.minute);
    if (total === 0 || minutes.length === 0) return { count: total, data: [], prevCount: 0, prevTS: 0 };
    const points =
      (
        (await this.db.stmt('SELECT metrics_points FROM queues WHERE queue = ?').get(queue)) as
          | { metrics_points: number | null }
          | undefined
      )?.metrics_points ?? 0;
    const byMinute = new Map(rows.filter((r) => r.minute >= 0).map((r) => [r.minute, r.count]));
    const first = rows.find((r) => r.minute === -2)?.count ?? Math.min(...minutes);
    return metricPoints(total, byMinute, Math.max(...minutes), first, points);
  }

  // ── workers ────────────────────────────────────────────────────────────────────

  async registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    await this.db
      .stmt(
        `INSERT INTO workers (queue, id, info, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (queue, id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at`,
      )
      .run(queue, info.id, JSON.stringify(info), info.heartbeat + ttlMs);
  }

  async unregisterWorker(queue: string, id: string): Promise<void> {
    await this.db.stmt('DELETE FROM workers WHERE queue = ? AND id = ?').run(queue, id);
  }

  async getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    const rows = (await this.db
      .stmt('SELECT info FROM workers WHERE queue = ? AND expires_at >= ? ORDER BY id')
      .all(queue, now)) as { info: string }[];
    return rows.map((r) => JSON.parse(r.info) as WorkerInfo);
  }

  // ── counts and children ────────────────────────────────────────────────────────

  async countsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    const rows = (await this.db
      .stmt(
        `SELECT lane, count(*) AS n FROM jobs WHERE queue = ? AND state = 'waiting' AND lane = ANY(?::bigint[])
         GROUP BY lane`,
      )
      .all(queue, priorities)) as { lane: number; n: number }[];
    const byLane = new Map(rows.map((r) => [r.lane, r.n]));
    return Object.fromEntries(priorities.map((p) => [String(p), byLane.get(p) ?? 0]));
  }

  removeChildDependency(queue: string, id: string, now: number): Promise<number> {
    return this.f.unlink(queue, id, now);
  }

  private async locked(row: Pick<JobRow, 'state' | 'token' | 'sort'>): Promise<boolean> {
    return row.state === 'active' && row.token !== null && row.sort >= (await this.t.lockClock());
  }

  /** Whether the job, or with `children` one of its pending children (recursively), is locked. */
  private async lockedTree(row: JobRow, children: boolean): Promise<boolean> {
    if (await this.locked(row)) return true;
    if (!children) return false;
    for (const key of await this.childKeys(row.queue, row.id, "AND status = 'pending'")) {
      const child = await this.childRow(key);
      if (child && (await this.lockedTree(child, true))) return true;
    }
    return false;
  }

  private async childKeys(queue: string, id: string, filter = ''): Promise<string[]> {
    const rows = (await this.db
      .stmt(`SELECT child_key FROM deps WHERE parent_queue = ? AND parent_id = ? ${filter} ORDER BY rowid`)
      .all(queue, id)) as { child_key: string }[];
    return rows.map((r) => r.child_key);
  }

  private async childRow(key: string): Promise<JobRow | undefined> {
    const at = key.lastIndexOf(':');
    return this.t.row(key.slice(0, at), key.slice(at + 1));
  }

  /** `remove` (see Store.remove). Nothing is removed while a job of the tree is locked. */
  async removeJob(queue: string, id: string, now: number, removeChildren: boolean): Promise<number> {
    const row = await this.t.row(queue, id);
    if (!row || (await this.lockedTree(row, removeChildren))) return 0;
    if (await isCurrentIteration(this.db, queue, id)) return -8;
    if (removeChildren) await this.removeChildrenOf(queue, id, now);
    await releaseDedup(this.db, queue, row);
    await this.t.deleteJob(queue, id, row.rowid, row.parent, { now, hard: false });
    this.t.emit(queue, 'removed', { jobId: id, prev: stateOf(row) });
    return 1;
  }

  private async removeChildrenOf(queue: string, id: string, now: number): Promise<void> {
    for (const key of await this.childKeys(queue, id)) {
      const child = await this.childRow(key);
      if (!child || (await this.locked(child))) continue;
      await this.t.touch(child.queue);
      await this.removeChildrenOf(child.queue, child.id, now);
      await releaseDedup(this.db, child.queue, child);
      await this.t.deleteJob(child.queue, child.id, child.rowid);
      this.t.emit(child.queue, 'removed', { jobId: child.id, prev: stateOf(child) });
    }
  }

  /** BullMQ's removeUnprocessedChildren (see the SQLite store). */
  async removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void> {
    for (const key of await this.childKeys(queue, id, "AND status = 'pending'")) {
      const child = await this.childRow(key);
      if (!child) {
        await this.db
          .stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
          .run(queue, id, key);
        continue;
      }
      if ((await this.locked(child)) || child.state === 'failed') continue;
      await this.t.touch(child.queue);
      await this.removeUnprocessedChildren(child.queue, child.id, now);
      await releaseDedup(this.db, child.queue, child);
      await this.t.deleteJob(child.queue, child.id, child.rowid, child.parent, { now, hard: false });
      this.t.emit(child.queue, 'removed', { jobId: child.id, prev: stateOf(child) });
    }
  }
}
