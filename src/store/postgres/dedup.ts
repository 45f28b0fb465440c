import { type JobRow, stateOf } from '../sql/rows.js';
import type { NewJob } from '../store.js';
import type { Conn } from './conn.js';
import type { Transitions } from './transitions.js';

interface DedupRow {
  job_id: string;
  expires_at: number | null;
  next_job: string | null;
}

/** The deduplication id in a job's opts JSON, if any. */
function dedupIdOf(opts: string): string | undefined {
  if (!opts.includes('"deduplication"')) return undefined;
  const id = (JSON.parse(opts) as { deduplication?: { id?: unknown } }).deduplication?.id;
  return id === undefined || id === null ? undefined : String(id);
}

/** A job being removed gives up its deduplication id when it still points at it (see the SQLite store). */
export async function releaseDedup(db: Conn, queue: string, row: Pick<JobRow, 'id' | 'opts'>): Promise<void> {
  const dedupId = dedupIdOf(row.opts);
  if (dedupId !== undefined) {
    await db.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ? AND job_id = ?').run(queue, dedupId, row.id);
  }
}

/**
 * Deduplication ids, as BullMQ's; mirrors src/store/sqlite/dedup.ts (the rules are told there).
 * Runs inside the caller's transaction.
 */
export class DedupIds {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  private async row(queue: string, dedupId: string): Promise<DedupRow | undefined> {
    return (await this.db
      .stmt('SELECT job_id, expires_at, next_job FROM dedup WHERE queue = ? AND dedup_id = ?')
      .get(queue, dedupId)) as DedupRow | undefined;
  }

  /** The job a live deduplication id points at, if any. */
  async live(queue: string, dedupId: string, now: number): Promise<{ row: DedupRow; job?: JobRow } | undefined> {
    const row = await this.row(queue, dedupId);
    if (!row) return undefined;
    const job = await this.t.row(queue, row.job_id);
    if (row.expires_at !== null) return row.expires_at > now ? { row, job } : undefined;
    if (!job || job.state === 'completed' || job.state === 'failed') return undefined;
    return { row, job };
  }

  /** Applies `job.dedup` before inserting `job` as `id` (see the SQLite store). */
  async beforeAdd(
    queue: string,
    job: NewJob,
    id: string,
    now: number,
  ): Promise<{ existing?: string; expiresAt?: number | null }> {
    const dedup = job.dedup;
    if (!dedup) return {};
    const live = await this.live(queue, dedup.id, now);
    if (!live) return {};
    const existing = live.row.job_id;
    const ttl = dedup.ttl !== undefined && dedup.ttl > 0 ? dedup.ttl : undefined;
    if (dedup.replace && live.job?.state === 'delayed') {
      await releaseDedup(this.db, queue, live.job);
      await this.t.deleteJob(queue, existing, live.job.rowid);
      this.t.emit(queue, 'removed', { jobId: existing, prev: stateOf(live.job) });
      this.t.emit(queue, 'deduplicated', { jobId: id, deduplicationId: dedup.id, deduplicatedJobId: existing });
      return ttl !== undefined && !dedup.extend ? { expiresAt: live.row.expires_at } : {};
    }
    if (dedup.keepLastIfActive && live.job?.state === 'active') {
      // Held until the active job finishes: an expiry meanwhile would let a job run beside it.
      await this.db
        .stmt('UPDATE dedup SET next_job = ?, expires_at = NULL WHERE queue = ? AND dedup_id = ?')
        .run(JSON.stringify({ ...job, id, dedup: { ...dedup } }), queue, dedup.id);
    } else if (dedup.replace) {
      return { existing };
    } else if (dedup.extend && ttl !== undefined) {
      await this.db
        .stmt('UPDATE dedup SET expires_at = ? WHERE queue = ? AND dedup_id = ?')
        .run(dedup.keepLastIfActive ? null : now + ttl, queue, dedup.id);
    }
    this.t.emit(queue, 'deduplicated', { jobId: existing, deduplicationId: dedup.id, deduplicatedJobId: id });
    return { existing };
  }

  /** Points `job.dedup.id` at `jobId` (see the SQLite store). */
  async claim(queue: string, job: NewJob, jobId: string, now: number, expiresAt?: number | null): Promise<void> {
    const dedup = job.dedup;
    if (!dedup) return;
    const expires =
      dedup.keepLastIfActive || dedup.ttl === undefined || dedup.ttl <= 0
        ? null
        : expiresAt !== undefined
          ? expiresAt
          : now + dedup.ttl;
    await this.db
      .stmt(
        `INSERT INTO dedup (queue, dedup_id, job_id, expires_at, next_job) VALUES (?, ?, ?, ?, NULL)
         ON CONFLICT (queue, dedup_id) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at,
           next_job = NULL`,
      )
      .run(queue, dedup.id, jobId, expires);
  }

  /** A job finished for good: free its deduplication id, adding the job kept aside if any. */
  async afterFinish(
    queue: string,
    row: Pick<JobRow, 'id' | 'opts'>,
    now: number,
    insert: (job: NewJob) => Promise<string>,
  ): Promise<void> {
    const dedupId = dedupIdOf(row.opts);
    if (dedupId === undefined) return;
    const dedup = await this.row(queue, dedupId);
    if (!dedup || dedup.job_id !== row.id) return;
    if (dedup.next_job) {
      const next = JSON.parse(dedup.next_job) as NewJob;
      const id = next.id !== undefined && (await this.t.exists(queue, next.id)) ? next.id : await insert(next);
      await this.claim(queue, next, id, now);
    } else if (dedup.expires_at === null) {
      await this.db.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId);
    }
  }

  /** Frees a deduplication id (only when it points at `jobId`, if given); 1 when it was live. */
  async remove(queue: string, dedupId: string, jobId: string | undefined, now: number): Promise<number> {
    const row = await this.row(queue, dedupId);
    if (!row || (jobId !== undefined && row.job_id !== jobId)) return 0;
    await this.db.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId);
    return row.expires_at === null || row.expires_at > now ? 1 : 0;
  }
}
