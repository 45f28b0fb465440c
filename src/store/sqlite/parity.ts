import type { MetricsRead, NewJob, WorkerInfo } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { FlowLinks } from './flows.js';
import { type JobRow, stateOf } from './rows.js';
import type { Transitions } from './transitions.js';

interface DedupRow {
  job_id: string;
  expires_at: number | null;
  next_job: string | null;
}

const MINUTE = 60_000;

/** BullMQ-parity features on SQLite: dedup, metrics, workers, child unlinking. Runs inside the caller's transaction. */
export class Parity {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
  ) {}

  // ── deduplication ──────────────────────────────────────────────────────────────

  private dedupRow(queue: string, dedupId: string): DedupRow | undefined {
    return this.sdb
      .stmt('SELECT job_id, expires_at, next_job FROM dedup WHERE queue = ? AND dedup_id = ?')
      .get(queue, dedupId) as DedupRow | undefined;
  }

  /** The job a live deduplication id points at, if any. */
  liveDedup(queue: string, dedupId: string, now: number): { row: DedupRow; job?: JobRow } | undefined {
    const row = this.dedupRow(queue, dedupId);
    if (!row) return undefined;
    const job = this.t.row(queue, row.job_id);
    if (row.expires_at !== null) return row.expires_at > now ? { row, job } : undefined;
    if (!job || job.state === 'completed' || job.state === 'failed') return undefined;
    return { row, job };
  }

  /**
   * Applies `job.dedup` before an insert: returns the existing job id when the add is refused,
   * or undefined when the job should be inserted (after which `claimDedup` points the id at it).
   */
  dedupBeforeAdd(queue: string, job: NewJob, now: number): string | undefined {
    const dedup = job.dedup;
    if (!dedup) return undefined;
    const live = this.liveDedup(queue, dedup.id, now);
    if (!live) return undefined;
    const existing = live.row.job_id;
    if (dedup.replace && live.job?.state === 'delayed') {
      this.t.deleteJob(queue, existing, live.job.rowid);
      this.t.emit(queue, 'removed', { jobId: existing, prev: 'delayed' });
      return undefined;
    }
    if (dedup.keepLastIfActive && live.job?.state === 'active') {
      this.sdb
        .stmt('UPDATE dedup SET next_job = ? WHERE queue = ? AND dedup_id = ?')
        .run(JSON.stringify({ ...job, dedup: { ...dedup } }), queue, dedup.id);
    } else if (dedup.extend && dedup.ttl !== undefined) {
      this.sdb
        .stmt('UPDATE dedup SET expires_at = ? WHERE queue = ? AND dedup_id = ?')
        .run(now + dedup.ttl, queue, dedup.id);
    }
    this.t.emit(queue, 'deduplicated', { jobId: existing, deduplicationId: dedup.id, deduplicatedJobId: job.id ?? '' });
    return existing;
  }

  claimDedup(queue: string, job: NewJob, jobId: string, now: number): void {
    if (!job.dedup) return;
    const expires = job.dedup.ttl !== undefined ? now + job.dedup.ttl : null;
    this.sdb
      .stmt('INSERT OR REPLACE INTO dedup (queue, dedup_id, job_id, expires_at, next_job) VALUES (?, ?, ?, ?, NULL)')
      .run(queue, job.dedup.id, jobId, expires);
  }

  /** A job finished for good: free its deduplication id, adding the job kept aside if any. */
  dedupAfterFinish(
    queue: string,
    row: Pick<JobRow, 'id' | 'opts'>,
    now: number,
    insert: (job: NewJob) => string,
  ): void {
    const dedupId = (JSON.parse(row.opts) as { deduplication?: { id?: string } }).deduplication?.id;
    if (!dedupId) return;
    const dedup = this.dedupRow(queue, dedupId);
    if (!dedup || dedup.job_id !== row.id) return;
    if (dedup.next_job) {
      const next = JSON.parse(dedup.next_job) as NewJob;
      const id = insert(next);
      this.claimDedup(queue, next, id, now);
    } else if (dedup.expires_at === null) {
      this.sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId);
    }
  }

  removeDedup(queue: string, dedupId: string, jobId?: string): number {
    const res =
      jobId === undefined
        ? this.sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId)
        : this.sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ? AND job_id = ?').run(queue, dedupId, jobId);
    return res.changes;
  }

  // ── metrics ────────────────────────────────────────────────────────────────────

  recordMetric(queue: string, type: 'completed' | 'failed', now: number, maxPoints: number): void {
    const minute = Math.floor(now / MINUTE);
    const bump = this.sdb.stmt(
      'INSERT INTO metrics (queue, type, minute, count) VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1',
    );
    bump.run(queue, type, minute);
    bump.run(queue, type, -1);
    this.sdb.stmt('UPDATE queues SET metrics_points = ? WHERE queue = ?').run(maxPoints, queue);
    this.sdb
      .stmt('DELETE FROM metrics WHERE queue = ? AND type = ? AND minute >= 0 AND minute <= ?')
      .run(queue, type, minute - maxPoints);
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): MetricsRead {
    const rows = this.sdb.stmt('SELECT minute, count FROM metrics WHERE queue = ? AND type = ?').all(queue, type) as {
      minute: number;
      count: number;
    }[];
    const total = rows.find((r) => r.minute === -1)?.count ?? 0;
    if (total === 0) return { count: 0, data: [] };
    const points =
      (
        this.sdb.stmt('SELECT metrics_points FROM queues WHERE queue = ?').get(queue) as {
          metrics_points: number | null;
        }
      )?.metrics_points ?? 0;
    const byMinute = new Map(rows.map((r) => [r.minute, r.count]));
    const current = Math.floor(now / MINUTE);
    return { count: total, data: Array.from({ length: points }, (_, i) => byMinute.get(current - i) ?? 0) };
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

  private locked(row: Pick<JobRow, 'state' | 'token' | 'sort'>, now: number): boolean {
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
    if (removeChildren) this.removeChildrenOf(queue, id, now);
    this.t.deleteJob(queue, id, row.rowid, row.parent, { now, hard: false });
    this.t.emit(queue, 'removed', { jobId: id, prev: stateOf(row) });
    return 1;
  }

  private removeChildrenOf(queue: string, id: string, now: number): void {
    for (const key of this.childKeys(queue, id)) {
      const child = this.childRow(key);
      if (!child || this.locked(child, now)) continue;
      this.removeChildrenOf(child.queue, child.id, now);
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
      this.t.deleteJob(child.queue, child.id, child.rowid, child.parent, { now, hard: false });
      this.t.emit(child.queue, 'removed', { jobId: child.id, prev: stateOf(child) });
      this.t.touched.add(child.queue);
    }
  }
}
