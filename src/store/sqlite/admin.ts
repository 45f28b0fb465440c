import type { MoveCode } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/** Queue-wide controls and job updates that need no lock; each runs inside the caller's transaction. */
export class Admin {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  pause(queue: string, paused: boolean): void {
    this.t.ensureQueue(queue);
    this.sdb.stmt('UPDATE queues SET paused = ? WHERE queue = ?').run(paused ? 1 : 0, queue);
    this.t.emit(queue, paused ? 'paused' : 'resumed');
  }

  /**
   * A manual limit replaces the limiter's window, as BullMQ's fills the one limiter key: once it
   * lapses, the window starts afresh (and getRateLimitTtl answers -2 until a job starts one).
   */
  rateLimit(queue: string, ms: number, now: number): void {
    this.t.ensureQueue(queue);
    if (ms > 0) {
      this.sdb
        .stmt('UPDATE queues SET rate_limit_until = ?, limiter_window_end = 0, limiter_count = 0 WHERE queue = ?')
        .run(now + ms, queue);
    } else {
      this.sdb.stmt('UPDATE queues SET rate_limit_until = 0 WHERE queue = ?').run(queue);
    }
  }

  setGlobalConcurrency(queue: string, n: number | undefined): void {
    this.t.ensureQueue(queue);
    this.sdb.stmt('UPDATE queues SET concurrency = ? WHERE queue = ?').run(n ?? null, queue);
  }

  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): void {
    this.t.ensureQueue(queue);
    this.sdb
      .stmt('UPDATE queues SET global_max = ?, global_duration = ? WHERE queue = ?')
      .run(limit?.max ?? null, limit?.duration ?? null, queue);
  }

  updateProgress(queue: string, id: string, progress: string): MoveCode {
    const res = this.sdb.stmt('UPDATE jobs SET progress = ? WHERE queue = ? AND id = ?').run(progress, queue, id);
    if (res.changes === 0) return -1;
    this.t.emit(queue, 'progress', { jobId: id, data: progress });
    return 0;
  }

  updateData(queue: string, id: string, data: string): MoveCode {
    const res = this.sdb.stmt('UPDATE jobs SET data = ? WHERE queue = ? AND id = ?').run(data, queue, id);
    return res.changes === 0 ? -1 : 0;
  }

  /** Appends a log row (trimmed to `keepLogs` when given); returns the row count, -1 for a missing job. */
  addLog(queue: string, id: string, row: string, keepLogs?: number): number {
    if (!this.t.exists(queue, id)) return -1;
    this.sdb.stmt('INSERT INTO logs (queue, job_id, row) VALUES (?, ?, ?)').run(queue, id, row);
    if (keepLogs !== undefined) this.trimLogs(queue, id, keepLogs);
    return (
      this.sdb.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id) as { n: number }
    ).n;
  }

  trimLogs(queue: string, id: string, keep: number): void {
    this.sdb
      .stmt(
        `DELETE FROM logs WHERE queue = ? AND job_id = ? AND seq NOT IN
           (SELECT seq FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq DESC LIMIT ?)`,
      )
      .run(queue, id, queue, id, keep);
  }
}
