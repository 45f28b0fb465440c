import type {
  GroupChange,
  GroupInfo,
  MetricsRead,
  MinuteCount,
  SchedulerIteration,
  SchedulerRecord,
  SchedulerUpsertResult,
  WorkerInfo,
} from './types.js';

// Parts of the Store contract (store.ts), one concern each; `Store` extends them.

/** BullMQ parity beyond the worker path: schedulers, dedup, global limits, metrics, workers, children. */
export interface StoreParity {
  /**
   * Creates or replaces a scheduler (`scheduler.offset` = the caller's `every` offset, if any) and
   * places its iteration as BullMQ's addJobScheduler does: the current iteration's job is removed
   * when it has not started, and an unchanged `every` schedule keeps its time; a changed one starts
   * now. A scheduler that existed keeps its iterationCount (a new one starts at 1).
   */
  upsertScheduler(
    queue: string,
    scheduler: SchedulerRecord,
    iteration: SchedulerIteration,
  ): Promise<SchedulerUpsertResult>;
  /**
   * Adds the iteration after the current one when `producerId` is the current iteration's job (so
   * two workers never add it twice), with the scheduler's stored name and data; bumps
   * iterationCount. When the new job's id exists already, emits `duplicated` and changes nothing.
   * Returns the added job id, if any.
   */
  scheduleNext(
    queue: string,
    schedulerId: string,
    producerId: string,
    iteration: SchedulerIteration,
  ): Promise<string | undefined>;
  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined>;
  /** Schedulers ordered by next run, sliced [start, end] (end -1 = all). */
  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]>;
  countSchedulers(queue: string): Promise<number>;
  /** Removes a scheduler and its current iteration's job when delayed (as BullMQ). True when it existed. */
  removeScheduler(queue: string, id: string): Promise<boolean>;

  /** The job id a deduplication id currently points at (undefined when free or expired). */
  getDedupJobId(queue: string, dedupId: string, now: number): Promise<string | undefined>;
  /** Frees a deduplication id; with `jobId`, only when it points at that job. 1 removed, 0 not. */
  removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number>;

  /** Global concurrency: fetchNext never lets more than `n` jobs of the queue be active (undefined removes it). */
  setGlobalConcurrency(queue: string, n: number | undefined): Promise<void>;
  /** Global rate limit, used by fetchNext instead of any worker limiter (undefined removes it). */
  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void>;
  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }>;

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead>;
  /**
   * Retained jobs of `type` that finished in each of `minutes` minutes from `since` (the i-th counts
   * finishedOn in [since + i·60 000, since + (i+1)·60 000)): counted off the finished list's order,
   * no counter, so jobs removed on finishing are not seen. The dashboard's throughput chart.
   */
  countFinishedPerMinute(
    queue: string,
    type: 'completed' | 'failed',
    since: number,
    minutes: number,
  ): Promise<number[]>;
  /**
   * The light per-minute counts recorded inside complete / fail / recoverStalled (same atomic unit),
   * for every minute from `sinceMinute` (floor(ms / 60 000)) that has any, oldest first. Jobs removed
   * on finishing are counted; at least the last MINUTE_COUNTS_KEPT minutes are kept.
   */
  getMinuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]>;
  /** Waiting job counts per priority (0 = not prioritised). */
  getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>>;

  /** Records a worker's heartbeat; it is listed until `now + ttlMs` passes without another. */
  registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void>;
  unregisterWorker(queue: string, id: string): Promise<void>;
  getWorkers(queue: string, now: number): Promise<WorkerInfo[]>;

  /**
   * Unlinks a pending child from its parent (releasing the parent when nothing else is pending):
   * 0 done; 1 the job is not a pending child (nothing changes); -1 no such job; -5 its parent is gone.
   */
  removeChildDependency(queue: string, id: string, now: number): Promise<number>;
  /**
   * Removes the parent's pending children that are neither locked nor failed, recursively with their
   * own unprocessed children; the parent moves on when no child is left pending.
   */
  removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void>;

  /**
   * Removes job records that belong to no state (left by a crash in a store without atomic moves, or
   * by hand): `count` keys read per scan step, stopping after the step in which `limit` (0 = none)
   * were removed. Returns how many were removed. SQL rows always have a state: always 0 there.
   */
  removeOrphanedJobs(queue: string, count: number, limit: number): Promise<number>;
}

/**
 * Groups (BullMQ Pro's groups, issue 22).
 * A grouped job (NewJob.group) waits in its group: fetchNext takes grouped jobs only when none of
 * the queue's own is waiting, one group at a time round-robin (a group served goes last; a new
 * group joins last), FIFO within a group by its priority. A paused group, one at its concurrency
 * (its own, else the fetch's `group.concurrency`: its active jobs, counted across all workers) or in
 * a used-up rate window (its own limit, else the fetch's `group.limit`; or a manual limit) is passed
 * over without holding back the others. Every way a job leaves active frees its group's slot in the
 * same step (complete, fail, moves, stalled recovery, removal). Waiting grouped jobs are not in
 * getCounts/getRange's waiting or prioritized lists: they are read per group.
 */
export interface StoreGroups {
  /**
   * Changes group `id`'s record, creating it when missing. Returns false when `paused` changes
   * nothing (pausing a paused group; resuming a group that is not paused or has no record), else
   * true. Resuming wakes waiting workers.
   */
  updateGroup(queue: string, id: string, change: GroupChange): Promise<boolean>;
  /** Group `id` with its counts, or undefined when it has no record (never had a job nor settings). */
  getGroup(queue: string, id: string): Promise<GroupInfo | undefined>;
  /** The groups with a record, in the order they were first seen, sliced [start, end] (end -1 = all). */
  getGroups(queue: string, start: number, end: number): Promise<GroupInfo[]>;
  /** Ids of group `id`'s waiting jobs in the order they will run, sliced [start, end] (end -1 = all). */
  getGroupJobIds(queue: string, id: string, start: number, end: number): Promise<string[]>;
}
