import { isUnrecoverable, moveError, ValidationError } from './errors.js';
import {
  type DependencyCounts,
  type DependencyFilter,
  dependenciesView,
  dependencyCounts,
  type JobDependencies,
} from './job-dependencies.js';
import { type BackoffStrategy, backoffDelay } from './options/backoff.js';
import type { JobsOptions, KeepJobs } from './options/job-options.js';
import { toRetention } from './options/retention.js';
import { toJson, validateJobOptions, validateKeyText } from './options/validate.js';
import type { QueueBase } from './queue-base.js';
import type { DedupOptions, FetchRequest, JobRecord, JobState, MoveCode, NewJob, ParentPolicy } from './store/store.js';

/** What a Job consults when it moves itself; a Worker supplies its own options. */
export interface JobSettings {
  lockDuration: number;
  backoffStrategy?: BackoffStrategy;
  maxStartedAttempts?: number;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  processedBy?: string;
  limiter?: { max: number; duration: number };
  /** Per-minute metrics data points to keep, when the worker records metrics. */
  metrics?: number;
}

/** A queue-like owner of jobs (Queue or Worker) that may supply settings. */
export type JobOwner = QueueBase & { jobSettings?(): JobSettings };

export type JobProgress = number | object | string | boolean;

/** The serialised job as `toJSON`/`asJSON` return it and `fromJSON` accepts. */
export type JobJson = { [K in keyof JobRecord]?: unknown } & { queueQualifiedName?: string };

/** What `waitUntilFinished` needs from QueueEvents. */
export interface FinishedWatcher {
  waitForJob<R>(
    jobId: string,
    ttl: number | undefined,
    current: () => Promise<{ ok: true; value: R } | { ok: false; reason: string } | undefined>,
  ): Promise<R>;
}

const DEFAULT_SETTINGS: JobSettings = { lockDuration: 30_000 };

export class Job<DataType = any, ReturnType = any, NameType extends string = string> {
  id?: string;
  progress: JobProgress = 0;
  returnvalue: ReturnType | null = null;
  failedReason?: string;
  stacktrace: string[] = [];
  attemptsMade = 0;
  attemptsStarted = 0;
  stalledCounter = 0;
  delay: number;
  priority: number;
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  processedBy?: string;
  token?: string;
  parent?: { id: string; queueKey: string };
  parentKey?: string;

  constructor(
    readonly queue: JobOwner,
    public name: NameType,
    public data: DataType,
    public opts: JobsOptions = {},
    id?: string,
  ) {
    this.id = id;
    this.delay = opts.delay ?? 0;
    this.priority = opts.priority ?? 0;
    this.timestamp = opts.timestamp ?? Date.now();
    if (opts.parent) {
      this.parent = { id: opts.parent.id, queueKey: opts.parent.queue };
      this.parentKey = `${opts.parent.queue}:${opts.parent.id}`;
    }
  }

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
    if (this.id === undefined) throw new Error('This job has not been added to a queue yet');
    return this.id;
  }

  // ── creating ─────────────────────────────────────────────────────────────────────

  /** Validates and serialises a job for the store; throws before anything is stored. */
  static toNewJob(name: string, data: unknown, opts: JobsOptions): NewJob {
    if (typeof name !== 'string') throw new ValidationError('Job name must be a string');
    validateKeyText(name, 'Job name');
    validateJobOptions(opts);
    const dataText = toJson(data, 'data');
    if (opts.sizeLimit !== undefined && Buffer.byteLength(dataText) > opts.sizeLimit) {
      throw new ValidationError(
        `data is ${Buffer.byteLength(dataText)} bytes, over opts.sizeLimit (${opts.sizeLimit})`,
      );
    }
    const { jobId, ...rest } = opts;
    return {
      id: jobId,
      name,
      data: dataText,
      opts: toJson(rest, 'opts'),
      timestamp: opts.timestamp ?? Date.now(),
      delay: opts.delay ?? 0,
      priority: opts.priority ?? 0,
      lifo: opts.lifo ?? false,
      parent: opts.parent ? { id: opts.parent.id, queue: opts.parent.queue, policy: parentPolicy(opts) } : undefined,
      dedup: opts.deduplication as DedupOptions | undefined,
    };
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
    const { ids } = await queue.store.addJobs(queue.qualifiedName, prepared);
    return jobs.map((j, i) => {
      const job = new Job<T, R, N>(queue, j.name, j.data, { timestamp: now, ...j.opts }, ids[i]);
      return job;
    });
  }

  /** Rebuilds a Job from a stored record, `toJSON()` output, or `[jobData, jobId]` of a fetchNext move. */
  static fromJSON<T = any, R = any, N extends string = string>(
    queue: JobOwner,
    json: JobJson,
    jobId?: string,
  ): Job<T, R, N> {
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
    const opts = (parse(json.opts) ?? {}) as JobsOptions;
    const job = new Job<T, R, N>(queue, json.name as N, parse(json.data) as T, opts, jobId ?? (json.id as string));
    job.progress = (parse(json.progress) ?? 0) as JobProgress;
    job.delay = Number(json.delay ?? 0);
    job.priority = Number(json.priority ?? 0);
    job.timestamp = Number(json.timestamp ?? job.timestamp);
    job.attemptsMade = Number(json.attemptsMade ?? 0);
    job.attemptsStarted = Number(json.attemptsStarted ?? 0);
    job.stalledCounter = Number(json.stalledCounter ?? 0);
    if (json.processedOn != null) job.processedOn = Number(json.processedOn);
    if (json.finishedOn != null) job.finishedOn = Number(json.finishedOn);
    if (json.returnvalue != null) job.returnvalue = parse(json.returnvalue) as R;
    if (json.failedReason != null) job.failedReason = String(json.failedReason);
    if (json.stacktrace != null) job.stacktrace = parse(json.stacktrace) as string[];
    if (json.processedBy != null) job.processedBy = String(json.processedBy);
    if (json.token != null) job.token = String(json.token);
    const parent = parse(json.parent) as { id: string; queue?: string; queueKey?: string } | undefined;
    if (parent) {
      const queueKey = parent.queueKey ?? parent.queue ?? '';
      job.parent = { id: parent.id, queueKey };
      job.parentKey = `${queueKey}:${parent.id}`;
    }
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
    return {
      id: this.id,
      name: this.name,
      data: this.data,
      opts: this.opts,
      progress: this.progress,
      delay: this.delay,
      priority: this.priority,
      timestamp: this.timestamp,
      attemptsMade: this.attemptsMade,
      attemptsStarted: this.attemptsStarted,
      stalledCounter: this.stalledCounter,
      processedOn: this.processedOn,
      finishedOn: this.finishedOn,
      returnvalue: this.returnvalue,
      failedReason: this.failedReason,
      stacktrace: this.stacktrace,
      processedBy: this.processedBy,
      parent: this.parent,
      parentKey: this.parentKey,
      queueQualifiedName: this.queueQualifiedName,
    } as JobJson;
  }

  /** The stored form, JSON fields as text (BullMQ's `asJSON`); `Job.fromJSON` rebuilds a job from it. */
  asJSON(): JobJson {
    const { parentKey: _parentKey, ...plain } = this.toJSON() as JobJson & { parentKey?: string };
    return {
      ...plain,
      data: JSON.stringify(this.data ?? {}),
      opts: JSON.stringify(this.opts),
      progress: JSON.stringify(this.progress),
      returnvalue: JSON.stringify(this.returnvalue),
      stacktrace: JSON.stringify(this.stacktrace),
      parent: this.parent ? JSON.stringify({ id: this.parent.id, queue: this.parent.queueKey }) : undefined,
    };
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
      if (state !== 'completed' && state !== 'failed') return undefined;
      const record = await this.store.getJob(qn, jobId);
      if (state === 'completed') return { ok: true, value: JSON.parse(record?.returnvalue ?? 'null') };
      return { ok: false, reason: record?.failedReason ?? '' };
    });
  }

  // ── updating ─────────────────────────────────────────────────────────────────────

  async updateProgress(progress: JobProgress): Promise<void> {
    const code = await this.store.updateProgress(this.queue.qualifiedName, this.jobId, toJson(progress, 'progress'));
    if (code !== 0) throw moveError(code, this.jobId, 'updateProgress');
    this.progress = progress;
    this.queue.emit('progress', this, progress);
  }

  async updateData(data: DataType): Promise<void> {
    const code = await this.store.updateData(this.queue.qualifiedName, this.jobId, toJson(data, 'data'));
    if (code !== 0) throw moveError(code, this.jobId, 'updateData');
    this.data = data;
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
    this.failedReason = undefined;
    this.finishedOn = undefined;
    this.processedOn = undefined;
    this.returnvalue = null;
    if (opts.resetAttemptsMade) this.attemptsMade = 0;
    if (opts.resetAttemptsStarted) this.attemptsStarted = 0;
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

  private fetchRequest(token: string): FetchRequest {
    const s = this.settings;
    return {
      tokens: [token],
      lockDuration: s.lockDuration,
      now: Date.now(),
      processedBy: s.processedBy,
      limiter: s.limiter,
    };
  }

  /**
   * Completes the job held by `token`. With `fetchNext` (default) the same atomic step takes the
   * next job for the same token and returns it as `[jobData, jobId]`, or `[]` when none is ready.
   */
  async moveToCompleted(returnValue: ReturnType, token: string, fetchNext = true): Promise<[JobJson, string] | []> {
    const now = Date.now();
    const text = toJson(returnValue ?? null, 'returnvalue');
    const keep = this.opts.removeOnComplete ?? this.settings.removeOnComplete;
    const item = { id: this.jobId, token, returnvalue: text, retention: toRetention(keep) };
    const res = await this.store.complete(
      this.queue.qualifiedName,
      [item],
      now,
      fetchNext ? this.fetchRequest(token) : undefined,
    );
    if (res.codes[0] !== 0) throw moveError(res.codes[0], this.jobId, 'moveToFinished');
    this.returnvalue = returnValue;
    this.finishedOn = now;
    this.attemptsMade += 1;
    return nextOf(res.next?.jobs[0]);
  }

  /** Whether a failure with `err` should be retried, and after how long (BullMQ's rules). */
  async retryDelayFor(err: Error): Promise<number | null> {
    const attempts = this.opts.attempts ?? 1;
    const made = this.attemptsMade + 1;
    const maxStarted = this.settings.maxStartedAttempts;
    if (isUnrecoverable(err) || made >= attempts) return null;
    if (maxStarted !== undefined && this.attemptsStarted >= maxStarted) return null;
    const delay = await backoffDelay(this.opts.backoff, made, err, this, this.settings.backoffStrategy);
    return delay < 0 ? null : delay;
  }

  /** Fails the job held by `token`, retrying it per `attempts`/`backoff` when allowed. */
  async moveToFailed(err: Error, token: string, fetchNext = false): Promise<[JobJson, string] | [] | undefined> {
    const error = err instanceof Error ? err : new Error(String(err));
    const retryDelay = await this.retryDelayFor(error);
    const now = Date.now();
    const stack = [...this.stacktrace, ...(error.stack ? [error.stack] : [])];
    const limit = this.opts.stackTraceLimit;
    const stacktrace = limit !== undefined ? (limit > 0 ? stack.slice(-limit) : []) : stack;
    const keep = this.opts.removeOnFail ?? this.settings.removeOnFail;
    const item = {
      id: this.jobId,
      token,
      failedReason: error.message ?? String(error),
      stacktrace: JSON.stringify(stacktrace),
      retryDelay,
      retention: toRetention(keep),
      retriesExhausted: retryDelay === null && this.attemptsMade + 1 >= (this.opts.attempts ?? 1),
      metrics: this.settings.metrics,
    };
    const res = await this.store.fail(
      this.queue.qualifiedName,
      [item],
      now,
      fetchNext ? this.fetchRequest(token) : undefined,
    );
    if (res.codes[0] !== 0) throw moveError(res.codes[0], this.jobId, 'moveToFinished');
    this.failedReason = item.failedReason;
    this.stacktrace = stacktrace;
    this.attemptsMade += 1;
    if (retryDelay === null) this.finishedOn = now;
    return fetchNext ? nextOf(res.next?.jobs[0]) : undefined;
  }

  /** Parks the active job until `timestamp`; throw DelayedError afterwards. No attempt is spent. */
  async moveToDelayed(timestamp: number, token?: string): Promise<void> {
    const code = await this.store.moveToDelayed(this.queue.qualifiedName, this.jobId, token, timestamp, Date.now());
    this.check(code, 'moveToDelayed');
    this.delay = Math.max(0, timestamp - Date.now());
  }

  /** Gives the active job back to waiting; throw WaitingError afterwards. No attempt is spent. */
  async moveToWait(token?: string): Promise<number> {
    const code = await this.store.moveToWait(this.queue.qualifiedName, this.jobId, token, Date.now());
    this.check(code, 'moveToWait');
    return 0;
  }

  /** Extends this job's lock held by `token` by `duration` ms; returns 1, or 0 when the lock is gone. */
  async extendLock(token: string, duration: number): Promise<number> {
    const lost = await this.store.extendLocks(this.queue.qualifiedName, [this.jobId], [token], duration, Date.now());
    return lost.length === 0 ? 1 : 0;
  }

  /**
   * Parks the active job until its pending children finish: true (then throw
   * WaitingChildrenError), or false when no child is pending and the processor should go on.
   */
  async moveToWaitingChildren(token: string, _opts: { child?: { id: string; queue: string } } = {}): Promise<boolean> {
    const res = await this.store.moveToWaitingChildren(this.queue.qualifiedName, this.jobId, token, Date.now());
    if (res < 0) throw moveError(res, this.jobId, 'moveToWaitingChildren');
    return res === 1;
  }

  /** Frees this job's deduplication id when it still points at this job. */
  async removeDeduplicationKey(): Promise<boolean> {
    const id = this.deduplicationId;
    if (!id) return false;
    return (await this.store.removeDedupKey(this.queue.qualifiedName, id, this.jobId)) > 0;
  }

  /** Unlinks this job from its parent; the parent runs when nothing else is pending. */
  async removeChildDependency(): Promise<boolean> {
    const removed = await this.store.removeChildDependency(this.queue.qualifiedName, this.jobId, Date.now());
    if (removed) {
      this.parent = undefined;
      this.parentKey = undefined;
    }
    return removed;
  }

  /** Removes this job's children that have not run yet (not active ones). */
  async removeUnprocessedChildren(): Promise<void> {
    await this.store.removeUnprocessedChildren(this.queue.qualifiedName, this.jobId);
  }

  // ── children ─────────────────────────────────────────────────────────────────────

  /** Return values of completed children, keyed by child key (`bull:<queue>:<id>`). */
  async getChildrenValues<T = any>(): Promise<Record<string, T>> {
    const deps = await this.store.getDependencies(this.queue.qualifiedName, this.jobId);
    return Object.fromEntries(Object.entries(deps.processed).map(([k, v]) => [k, JSON.parse(v) as T]));
  }

  /** Failure reasons of children that failed with failParentOnFailure or continueParentOnFailure. */
  async getFailedChildrenValues(): Promise<Record<string, string>> {
    return (await this.store.getDependencies(this.queue.qualifiedName, this.jobId)).failed;
  }

  /** Failure reasons of children that failed with ignoreDependencyOnFailure. */
  async getIgnoredChildrenFailures(): Promise<Record<string, string>> {
    return (await this.store.getDependencies(this.queue.qualifiedName, this.jobId)).ignored;
  }

  /** Children by outcome, as BullMQ returns them (`processed` values parsed). */
  async getDependencies(opts: DependencyFilter = {}): Promise<JobDependencies> {
    return dependenciesView(await this.store.getDependencies(this.queue.qualifiedName, this.jobId), opts);
  }

  async getDependenciesCount(opts: DependencyFilter = {}): Promise<DependencyCounts> {
    return dependencyCounts(await this.store.getDependencies(this.queue.qualifiedName, this.jobId), opts);
  }

  private check(code: MoveCode, command: string): void {
    if (code !== 0) throw moveError(code, this.jobId, command);
  }
}

function parentPolicy(opts: JobsOptions): ParentPolicy | undefined {
  if (opts.failParentOnFailure) return 'fail';
  if (opts.continueParentOnFailure) return 'continue';
  if (opts.ignoreDependencyOnFailure) return 'ignore';
  if (opts.removeDependencyOnFailure) return 'remove';
  return undefined;
}

function nextOf(record: JobRecord | undefined): [JobJson, string] | [] {
  return record ? [record as JobJson, record.id] : [];
}
