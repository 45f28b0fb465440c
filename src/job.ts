import { moveError } from './errors.js';
import { batchOf, markFailed } from './job/batch.js';
import * as children from './job/children.js';
import { JobBase } from './job/job-base.js';
import * as moves from './job/moves.js';
import { jobAsJSON, jobToJSON, parseField, restoreFields, toNewJob } from './job/serialise.js';
import { runStep, type StepChild, sleepStep, spawnStep } from './job/steps.js';
import { refuseIfStopped } from './job/stopped.js';
import {
  type FinishedWatcher,
  idOf,
  type JobJson,
  type JobOwner,
  type JobProgress,
  type JobSettings,
} from './job/types.js';
import * as updates from './job/updates.js';
import type { DependencyCounts, DependencyFilter, JobDependencies } from './job-dependencies.js';
import type { JobsOptions } from './options/job-options.js';
import { validateJobOptions } from './options/validate.js';
import { addBatcher } from './store/add-batcher.js';
import type { DedupOptions, JobState, MoveCode, NewJob } from './store/store.js';

// The types of a job's settings, owner and serialised form live in job/types.ts (so that the helpers
// under job/ need not import this file); re-exported here, where callers have always found them.
export type { FinishedWatcher, JobJson, JobOwner, JobProgress, JobSettings } from './job/types.js';

const DEFAULT_SETTINGS: JobSettings = { lockDuration: 30_000 };

export class Job<DataType = any, ReturnType = any, NameType extends string = string> extends JobBase<
  DataType,
  ReturnType,
  NameType
> {
  /** The job scheduler that produced this job, if any. */
  get repeatJobKey(): string | undefined {
    return this.opts.repeatJobKey as string | undefined;
  }

  get deduplicationId(): string | undefined {
    return (this.opts.deduplication as DedupOptions | undefined)?.id;
  }

  get queueName(): string {
    return this.queue.name;
  }

  get queueQualifiedName(): string {
    return this.queue.qualifiedName;
  }

  get prefix(): string {
    return this.queue.prefix;
  }

  private get settings(): JobSettings {
    return this.queue.jobSettings?.() ?? DEFAULT_SETTINGS;
  }

  private get store() {
    return this.queue.store;
  }

  private get jobId(): string {
    return idOf(this);
  }

  // ── creating ─────────────────────────────────────────────────────────────────────

  /** Validates and serialises a job for the store; throws before anything is stored. */
  static toNewJob(name: string, data: unknown, opts: JobsOptions): NewJob {
    return toNewJob(name, data, opts);
  }

  static async create<T = any, R = any, N extends string = string>(
    queue: JobOwner,
    name: N,
    data: T,
    opts: JobsOptions = {},
  ): Promise<Job<T, R, N>> {
    const [job] = await Job.createBulk<T, R, N>(queue, [{ name, data, opts }]);
    return job;
  }

  static async createBulk<T = any, R = any, N extends string = string>(
    queue: JobOwner,
    jobs: { name: N; data: T; opts?: JobsOptions }[],
  ): Promise<Job<T, R, N>[]> {
    const now = Date.now();
    const prepared = jobs.map((j) => Job.toNewJob(j.name, j.data, { timestamp: now, ...j.opts }));
    await queue.waitUntilReady();
    const { ids } = await addBatcher(queue.store).add(queue.qualifiedName, prepared);
    return jobs.map((j, i) => new Job<T, R, N>(queue, j.name, j.data, { timestamp: now, ...j.opts }, ids[i]));
  }

  /** Rebuilds a Job from a stored record, `toJSON()` output, or `[jobData, jobId]` of a fetchNext move. */
  static fromJSON<T = any, R = any, N extends string = string>(
    queue: JobOwner,
    json: JobJson,
    jobId?: string,
  ): Job<T, R, N> {
    const opts = (parseField(json.opts) ?? {}) as JobsOptions;
    const job = new Job<T, R, N>(queue, json.name as N, parseField(json.data) as T, opts, jobId ?? (json.id as string));
    // The stored parent link is the authority: removeChildDependency drops it while opts keep it.
    job.parent = undefined;
    job.parentKey = undefined;
    restoreFields(job, json);
    return job;
  }

  static async fromId<T = any, R = any, N extends string = string>(
    queue: JobOwner,
    jobId: string,
  ): Promise<Job<T, R, N> | undefined> {
    await queue.waitUntilReady();
    const record = await queue.store.getJob(queue.qualifiedName, jobId);
    return record ? Job.fromJSON<T, R, N>(queue, record) : undefined;
  }

  /** The job's fields as plain values (BullMQ's `toJSON`: `JSON.stringify(job)` encodes each once). */
  toJSON(): JobJson {
    return jobToJSON(this);
  }

  /** The stored form, JSON fields as text (BullMQ's `asJSON`); `Job.fromJSON` rebuilds a job from it. */
  asJSON(): JobJson {
    return jobAsJSON(this);
  }

  // ── reading ──────────────────────────────────────────────────────────────────────

  getState(): Promise<JobState | 'unknown'> {
    return this.store.getState(this.queue.qualifiedName, this.jobId);
  }

  // Methods, not arrow properties: a Job is made per fetched job, and per-instance closures cost.
  async isCompleted(): Promise<boolean> {
    return (await this.getState()) === 'completed';
  }
  async isFailed(): Promise<boolean> {
    return (await this.getState()) === 'failed';
  }
  async isDelayed(): Promise<boolean> {
    return (await this.getState()) === 'delayed';
  }
  async isActive(): Promise<boolean> {
    return (await this.getState()) === 'active';
  }
  async isWaiting(): Promise<boolean> {
    return (await this.getState()) === 'waiting';
  }
  async isPrioritized(): Promise<boolean> {
    return (await this.getState()) === 'prioritized';
  }
  async isWaitingChildren(): Promise<boolean> {
    return (await this.getState()) === 'waiting-children';
  }

  /**
   * Resolves with the return value when the job completes, rejects with its failure reason when it
   * fails (for good), as seen through `queueEvents`; rejects after `ttl` ms when given.
   */
  async waitUntilFinished(queueEvents: FinishedWatcher, ttl?: number): Promise<ReturnType> {
    const jobId = this.jobId;
    return queueEvents.waitForJob(jobId, ttl, async () => {
      const qn = this.queue.qualifiedName;
      const state = await this.store.getState(qn, jobId);
      // A job that is gone (removed, or removed on completion) never finishes: BullMQ's text.
      if (state === 'unknown') return { ok: false, reason: `Missing key for job ${qn}:${jobId}. isFinished` };
      if (state !== 'completed' && state !== 'failed') return undefined;
      const record = await this.store.getJob(qn, jobId);
      if (state === 'completed') return { ok: true, value: JSON.parse(record?.returnvalue ?? 'null') };
      return { ok: false, reason: record?.failedReason ?? '' };
    });
  }

  // ── updating ─────────────────────────────────────────────────────────────────────

  /** Sets `progress` at once, then stores it and emits the owner's 'progress' (job/updates.ts). */
  updateProgress(progress: JobProgress): Promise<void> {
    return updates.updateProgress(this, progress);
  }

  /** Sets `data` at once, then stores it (job/updates.ts). */
  updateData(data: DataType): Promise<void> {
    return updates.updateData(this, data);
  }

  /** Appends a row to the job's log; returns the row count. */
  async log(row: string): Promise<number> {
    return Job.addJobLog(this.queue, this.jobId, row, this.opts.keepLogs);
  }

  static async addJobLog(queue: JobOwner, jobId: string, row: string, keepLogs?: number): Promise<number> {
    const count = await queue.store.addLog(queue.qualifiedName, jobId, row, keepLogs);
    if (count < 0) throw moveError(-1, jobId, 'addLog');
    return count;
  }

  /** Removes the log rows, keeping the newest `keep`. */
  async clearLogs(keep = 0): Promise<void> {
    await this.store.clearLogs(this.queue.qualifiedName, this.jobId, keep);
  }

  /** Removes the job; throws while a worker holds its lock. */
  async remove({ removeChildren = true }: { removeChildren?: boolean } = {}): Promise<void> {
    const removed = await this.store.remove(this.queue.qualifiedName, this.jobId, Date.now(), removeChildren);
    if (removed < 0) throw moveError(removed, this.jobId, 'removeJob');
    if (!removed) throw new Error(`Job ${this.jobId} could not be removed because it is locked by another worker`);
  }

  /** Moves a finished job back to waiting. */
  async retry(
    state: 'completed' | 'failed' = 'failed',
    opts: { resetAttemptsMade?: boolean; resetAttemptsStarted?: boolean } = {},
  ): Promise<void> {
    const code = await this.store.retryJob(this.queue.qualifiedName, this.jobId, state, {
      attemptsMade: opts.resetAttemptsMade,
      attemptsStarted: opts.resetAttemptsStarted,
    });
    if (code === -3) throw new Error(`Job ${this.jobId} is not in the ${state} state. reprocessJob`);
    this.check(code, 'reprocessJob');
    // null, as BullMQ's retry leaves them (a job read back from the store has them undefined).
    this.failedReason = null as unknown as undefined;
    this.finishedOn = null as unknown as undefined;
    this.processedOn = null as unknown as undefined;
    this.returnvalue = null;
    if (opts.resetAttemptsMade) this.attemptsMade = 0;
    if (opts.resetAttemptsStarted) this.attemptsStarted = 0;
    this.steps = {};
  }

  /** Moves a delayed job to waiting now. */
  async promote(): Promise<void> {
    const code = await this.store.promote(this.queue.qualifiedName, this.jobId);
    if (code === -3) throw new Error(`Job ${this.jobId} is not in the delayed state. promote`);
    this.check(code, 'promote');
    this.delay = 0;
  }

  /** Re-times a delayed job to run `delay` ms from now. */
  async changeDelay(delay: number): Promise<void> {
    validateJobOptions({ delay });
    const code = await this.store.changeDelay(this.queue.qualifiedName, this.jobId, delay, Date.now());
    if (code === -3) throw new Error(`Job ${this.jobId} is not in the delayed state. changeDelay`);
    this.check(code, 'changeDelay');
    this.delay = delay;
  }

  async changePriority(opts: { priority?: number; lifo?: boolean }): Promise<void> {
    const priority = opts.priority ?? 0;
    validateJobOptions({ priority });
    const code = await this.store.changePriority(this.queue.qualifiedName, this.jobId, priority, opts.lifo ?? false);
    this.check(code, 'changePriority');
    this.priority = priority;
  }

  // ── moving (lock-checked) ────────────────────────────────────────────────────────

  /**
   * Completes the job held by `token` (`'0'`: without a lock check, as in BullMQ). With `fetchNext`
   * (default) the same atomic step takes the next job for the same token and returns it as
   * `[jobData, jobId, 0, 0]` (BullMQ's shape), or `[]` when none is ready.
   */
  async moveToCompleted(returnValue: ReturnType, token: string, fetchNext = true): Promise<moves.NextJob> {
    refuseIfStopped(this, 'moveToFinished');
    return moves.moveToCompleted(this, this.settings, returnValue, token, fetchNext);
  }

  /** Whether a failure with `err` should be retried, and after how long (BullMQ's rules). */
  async retryDelayFor(err: Error): Promise<number | null> {
    return moves.retryDelayFor(this, this.settings, err);
  }

  /**
   * Fails the job held by `token` (`'0'`: without a lock check), retrying it per `attempts`/`backoff`
   * when allowed. With `fetchNext`, returns the next job as moveToCompleted does; else `[]`.
   */
  async moveToFailed(err: Error, token: string, fetchNext = false): Promise<moves.NextJob> {
    refuseIfStopped(this, 'moveToFinished');
    return this.failAttempt(err, token, fetchNext);
  }

  /**
   * @internal moveToFailed for the worker, which also fails attempts it stopped itself (a timeout:
   * the Job object then refuses the processor's own calls, see job/stopped.ts).
   */
  async failAttempt(err: Error, token: string, fetchNext: boolean): Promise<moves.NextJob> {
    const error = err instanceof Error ? err : new Error(String(err));
    const retryDelay = await this.retryDelayFor(error);
    return moves.moveToFailed(this, this.settings, error, retryDelay, token, fetchNext);
  }

  /** Parks the active job until `timestamp`; throw DelayedError afterwards. No attempt is spent. */
  async moveToDelayed(timestamp: number, token?: string): Promise<void> {
    refuseIfStopped(this, 'moveToDelayed');
    return moves.moveToDelayed(this, timestamp, token);
  }

  /** Gives the active job back to waiting; throw WaitingError afterwards. No attempt is spent. */
  async moveToWait(token?: string): Promise<number> {
    refuseIfStopped(this, 'moveToWait');
    return moves.moveToWait(this, token);
  }

  /** Extends this job's lock held by `token` by `duration` ms; returns 1, or 0 when the lock is gone. */
  async extendLock(token: string, duration: number): Promise<number> {
    return moves.extendLock(this, token, duration);
  }

  /**
   * Parks the active job until its pending children finish: true (then throw
   * WaitingChildrenError), or false when no child is pending and the processor should go on.
   */
  async moveToWaitingChildren(token: string, _opts: { child?: { id: string; queue: string } } = {}): Promise<boolean> {
    refuseIfStopped(this, 'moveToWaitingChildren');
    return moves.moveToWaitingChildren(this, token);
  }

  /** Frees this job's deduplication id when it still points at this job. */
  async removeDeduplicationKey(): Promise<boolean> {
    const id = this.deduplicationId;
    if (!id) return false;
    return (await this.store.removeDedupKey(this.queue.qualifiedName, id, this.jobId)) > 0;
  }

  /** Unlinks this job from its parent; the parent runs when nothing else is pending. */
  async removeChildDependency(): Promise<boolean> {
    return children.unlinkFromParent(this);
  }

  /** Removes this job's children that have not run yet (not active ones). */
  async removeUnprocessedChildren(): Promise<void> {
    await children.removeUnprocessedChildren(this);
  }

  // ── durable steps (Docket only; rules in docs/patterns/step-jobs.md, code in job/steps.ts) ──

  /** Runs `fn` once and records its JSON result under `id`; on any later run returns the record instead. */
  async step<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    refuseIfStopped(this, 'recordStep');
    return runStep(this, id, fn);
  }

  /** Records `id` and parks the job for `ms` in one move, then throws DelayedError; once recorded, returns. */
  async sleep(id: string, ms: number): Promise<void> {
    refuseIfStopped(this, 'recordStep');
    return sleepStep(this, id, ms);
  }

  /** Adds `children` once, throws WaitingChildrenError while any is pending; then returns their values. */
  async spawnChildren<R = any>(id: string, children: StepChild[]): Promise<R[]> {
    return spawnStep<R>(this, id, children);
  }

  // ── batches (BullMQ Pro's; docs/patterns/batches.md) ──────────────────────────────

  /** The jobs of the batch this job runs (worker option `batch`); [] for a job that is no batch. */
  getBatch(): Job<DataType, ReturnType, NameType>[] {
    return batchOf<Job<DataType, ReturnType, NameType>>(this);
  }

  /** Fails this job of a running batch with `err` when the batch's processor returns; the others complete. */
  setAsFailed(err: Error): void {
    markFailed(this, err);
  }

  // ── children ─────────────────────────────────────────────────────────────────────

  /** Return values of completed children, keyed by child key (`bull:<queue>:<id>`). */
  async getChildrenValues<T = any>(): Promise<Record<string, T>> {
    return children.childrenValues<T>(this);
  }

  /** Failure reasons of children that failed with failParentOnFailure or continueParentOnFailure. */
  async getFailedChildrenValues(): Promise<Record<string, string>> {
    return children.failedChildren(this);
  }

  /** Failure reasons of children that failed with ignoreDependencyOnFailure. */
  async getIgnoredChildrenFailures(): Promise<Record<string, string>> {
    return children.ignoredChildren(this);
  }

  /** Children by outcome, as BullMQ returns them (`processed` values parsed). */
  async getDependencies(opts: DependencyFilter = {}): Promise<JobDependencies> {
    return children.dependencies(this, opts);
  }

  async getDependenciesCount(opts: DependencyFilter = {}): Promise<DependencyCounts> {
    return children.countDependencies(this, opts);
  }

  private check(code: MoveCode, command: string): void {
    moves.checkMove(code, this.jobId, command);
  }
}
