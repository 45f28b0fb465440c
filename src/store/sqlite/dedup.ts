import { type JobRow, stateOf } from '../sql/rows.js';
import type { NewJob } from '../store.js';
import type { SharedDatabase } from './database.js';
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

/**
 * A job being removed (remove, clean, drain, obliterate) gives up its deduplication id, with the
 * job kept aside for it, when the id still points at it, as BullMQ's removals do (retention does
 * not). Runs inside the caller's transaction.
 */
export function releaseDedup(sdb: SharedDatabase, queue: string, row: Pick<JobRow, 'id' | 'opts'>): void {
  const dedupId = dedupIdOf(row.opts);
  if (dedupId !== undefined) {
    sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ? AND job_id = ?').run(queue, dedupId, row.id);
  }
}

/**
 * Deduplication ids on SQLite, as BullMQ's (the Redis store: scripts/includes/dedup.lua). A row
 * names the job holding an id: until `expires_at` when added with `ttl` (finished or not), else
 * until the job finishes or is removed. keepLastIfActive ignores ttl: its row never expires while
 * the owner is active; `next_job` is the job kept aside, added when the owner finishes.
 * Runs inside the caller's transaction.
 */
export class DedupIds {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  private row(queue: string, dedupId: string): DedupRow | undefined {
    return this.sdb
      .stmt('SELECT job_id, expires_at, next_job FROM dedup WHERE queue = ? AND dedup_id = ?')
      .get(queue, dedupId) as DedupRow | undefined;
  }

  /** The job a live deduplication id points at, if any. */
  live(queue: string, dedupId: string, now: number): { row: DedupRow; job?: JobRow } | undefined {
    const row = this.row(queue, dedupId);
    if (!row) return undefined;
    const job = this.t.row(queue, row.job_id);
    if (row.expires_at !== null) return row.expires_at > now ? { row, job } : undefined;
    if (!job || job.state === 'completed' || job.state === 'failed') return undefined;
    return { row, job };
  }

  /**
   * Applies `job.dedup` before inserting `job` as `id` (an auto id is taken before, as in BullMQ).
   * Returns the existing job id when the add is refused; else, when the job is to be inserted,
   * `expiresAt` set when the id must keep the expiry it had (replace without extend).
   * Events as the Redis store's: deduplicated; removed + deduplicated for a replaced delayed job;
   * none for a refused replace (the job is no longer delayed).
   */
  beforeAdd(queue: string, job: NewJob, id: string, now: number): { existing?: string; expiresAt?: number | null } {
    const dedup = job.dedup;
    if (!dedup) return {};
    const live = this.live(queue, dedup.id, now);
    if (!live) return {};
    const existing = live.row.job_id;
    const ttl = dedup.ttl !== undefined && dedup.ttl > 0 ? dedup.ttl : undefined;
    if (dedup.replace && live.job?.state === 'delayed') {
      releaseDedup(this.sdb, queue, live.job);
      this.t.deleteJob(queue, existing, live.job.rowid);
      this.t.emit(queue, 'removed', { jobId: existing, prev: stateOf(live.job) });
      this.t.emit(queue, 'deduplicated', { jobId: id, deduplicationId: dedup.id, deduplicatedJobId: existing });
      return ttl !== undefined && !dedup.extend ? { expiresAt: live.row.expires_at } : {};
    }
    if (dedup.keepLastIfActive && live.job?.state === 'active') {
      // Held until the active job finishes: an expiry meanwhile would let a job run beside it.
      this.sdb
        .stmt('UPDATE dedup SET next_job = ?, expires_at = NULL WHERE queue = ? AND dedup_id = ?')
        .run(JSON.stringify({ ...job, id, dedup: { ...dedup } }), queue, dedup.id);
    } else if (dedup.replace) {
      return { existing };
    } else if (dedup.extend && ttl !== undefined) {
      this.sdb
        .stmt('UPDATE dedup SET expires_at = ? WHERE queue = ? AND dedup_id = ?')
        .run(dedup.keepLastIfActive ? null : now + ttl, queue, dedup.id);
    }
    this.t.emit(queue, 'deduplicated', { jobId: existing, deduplicationId: dedup.id, deduplicatedJobId: id });
    return { existing };
  }

  /**
   * Points `job.dedup.id` at `jobId`: with the ttl (or `expiresAt`, kept from a replaced job)
   * unless keepLastIfActive, which holds the id until the job finishes.
   */
  claim(queue: string, job: NewJob, jobId: string, now: number, expiresAt?: number | null): void {
    const dedup = job.dedup;
    if (!dedup) return;
    const expires =
      dedup.keepLastIfActive || dedup.ttl === undefined || dedup.ttl <= 0
        ? null
        : expiresAt !== undefined
          ? expiresAt
          : now + dedup.ttl;
    this.sdb
      .stmt('INSERT OR REPLACE INTO dedup (queue, dedup_id, job_id, expires_at, next_job) VALUES (?, ?, ?, ?, NULL)')
      .run(queue, dedup.id, jobId, expires);
  }

  /** A job finished for good: free its deduplication id, adding the job kept aside if any. */
  afterFinish(queue: string, row: Pick<JobRow, 'id' | 'opts'>, now: number, insert: (job: NewJob) => string): void {
    const dedupId = dedupIdOf(row.opts);
    if (dedupId === undefined) return;
    const dedup = this.row(queue, dedupId);
    if (!dedup || dedup.job_id !== row.id) return;
    if (dedup.next_job) {
      const next = JSON.parse(dedup.next_job) as NewJob;
      const id = next.id !== undefined && this.t.exists(queue, next.id) ? next.id : insert(next);
      this.claim(queue, next, id, now);
    } else if (dedup.expires_at === null) {
      this.sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId);
    }
  }

  /**
   * Frees a deduplication id (only when it points at `jobId`, if given). Returns 1 when it was
   * live: an id whose ttl ran out counts as gone, as an expired Redis key.
   */
  remove(queue: string, dedupId: string, jobId: string | undefined, now: number): number {
    const row = this.row(queue, dedupId);
    if (!row || (jobId !== undefined && row.job_id !== jobId)) return 0;
    this.sdb.stmt('DELETE FROM dedup WHERE queue = ? AND dedup_id = ?').run(queue, dedupId);
    return row.expires_at === null || row.expires_at > now ? 1 : 0;
  }
}
