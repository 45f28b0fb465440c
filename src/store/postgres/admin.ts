import type { MoveCode } from '../store.js';
import type { Conn } from './conn.js';
import type { Transitions } from './transitions.js';

/** Queue-wide controls and job updates that need no lock (mirrors src/store/sqlite/admin.ts). */
export class Admin {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.t.ensureQueue(queue);
    await this.db.stmt('UPDATE queues SET paused = ? WHERE queue = ?').run(paused ? 1 : 0, queue);
    this.t.emit(queue, paused ? 'paused' : 'resumed');
  }

  /** A manual limit replaces the limiter's window (see the SQLite store). */
  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.t.ensureQueue(queue);
    if (ms > 0) {
      await this.db
        .stmt('UPDATE queues SET rate_limit_until = ?, limiter_window_end = 0, limiter_count = 0 WHERE queue = ?')
        .run(now + ms, queue);
    } else {
      await this.db.stmt('UPDATE queues SET rate_limit_until = 0 WHERE queue = ?').run(queue);
    }
  }

  async setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    await this.t.ensureQueue(queue);
    await this.db.stmt('UPDATE queues SET concurrency = ? WHERE queue = ?').run(n ?? null, queue);
  }

  async setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    await this.t.ensureQueue(queue);
    await this.db
      .stmt('UPDATE queues SET global_max = ?, global_duration = ? WHERE queue = ?')
      .run(limit?.max ?? null, limit?.duration ?? null, queue);
  }

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    const res = await this.db.stmt('UPDATE jobs SET progress = ? WHERE queue = ? AND id = ?').run(progress, queue, id);
    if (res.changes === 0) return -1;
    this.t.emit(queue, 'progress', { jobId: id, data: progress });
    return 0;
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    const res = await this.db.stmt('UPDATE jobs SET data = ? WHERE queue = ? AND id = ?').run(data, queue, id);
    return res.changes === 0 ? -1 : 0;
  }

  /** Appends a log row (trimmed to `keepLogs` when given); returns the row count, -1 for a missing job. */
  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    if (!(await this.t.exists(queue, id))) return -1;
    await this.db.stmt('INSERT INTO logs (queue, job_id, line) VALUES (?, ?, ?)').run(queue, id, row);
    if (keepLogs !== undefined) await this.trimLogs(queue, id, keepLogs);
    return (
      (await this.db.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id)) as {
        n: number;
      }
    ).n;
  }

  async trimLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.db
      .stmt(
        `DELETE FROM logs WHERE queue = ? AND job_id = ? AND seq NOT IN
           (SELECT seq FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq DESC LIMIT ?)`,
      )
      .run(queue, id, queue, id, keep);
  }
}
