import { Job } from './job.js';
import type { BulkJobOptions, JobsOptions } from './options/job-options.js';
import { validateJobOptions } from './options/validate.js';
import type { QueueBaseOptions } from './queue-base.js';
import { QueueGetters } from './queue-getters.js';

export interface QueueOptions extends QueueBaseOptions {
  /** Options merged under every job added to this queue. */
  defaultJobOptions?: JobsOptions;
}

/** Adds and inspects jobs. BullMQ's `Queue`, on either store. */
export class Queue<DataType = any, ResultType = any, NameType extends string = string> extends QueueGetters<
  DataType,
  ResultType,
  NameType
> {
  readonly opts: QueueOptions;
  private readonly jobsOpts: JobsOptions;

  constructor(name: string, opts: QueueOptions = {}) {
    super(name, opts, false);
    this.opts = opts;
    this.jobsOpts = opts.defaultJobOptions ?? {};
    validateJobOptions(this.jobsOpts);
    if (!opts.skipWaitingForReady) this.waitUntilReady().catch((err) => this.emitError(err));
  }

  private emitError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  get defaultJobOptions(): JobsOptions {
    return { ...this.jobsOpts };
  }

  /** Adds one job. A custom `jobId` that exists already returns the existing job unchanged. */
  async add(name: NameType, data: DataType, opts: JobsOptions = {}): Promise<Job<DataType, ResultType, NameType>> {
    const [job] = await this.addBulk([{ name, data, opts }]);
    return job;
  }

  /** Adds many jobs in one atomic step: all are stored or none. */
  async addBulk(
    jobs: { name: NameType; data: DataType; opts?: BulkJobOptions }[],
  ): Promise<Job<DataType, ResultType, NameType>[]> {
    const added = await Job.createBulk<DataType, ResultType, NameType>(
      this,
      jobs.map((j) => ({ name: j.name, data: j.data, opts: { ...this.jobsOpts, ...j.opts } })),
    );
    for (const job of added) this.emit('waiting', job);
    return added;
  }

  async pause(): Promise<void> {
    await this.waitUntilReady();
    await this.store.pause(this.qualifiedName, true);
    this.emit('paused');
  }

  async resume(): Promise<void> {
    await this.waitUntilReady();
    await this.store.pause(this.qualifiedName, false);
    this.emit('resumed');
  }

  async isPaused(): Promise<boolean> {
    await this.waitUntilReady();
    return this.store.isPaused(this.qualifiedName);
  }

  /** Stops every worker of this queue from taking jobs for `expireTimeMs`. */
  async rateLimit(expireTimeMs: number): Promise<void> {
    await this.waitUntilReady();
    await this.store.rateLimit(this.qualifiedName, expireTimeMs, Date.now());
  }

  /** ms until workers may take jobs again (0 or less: not limited). */
  async getRateLimitTtl(_maxJobs?: number): Promise<number> {
    await this.waitUntilReady();
    return this.store.getRateLimitTtl(this.qualifiedName, Date.now());
  }

  async updateJobProgress(jobId: string, progress: number | object): Promise<void> {
    const job = await this.getJob(jobId);
    if (!job) throw new Error(`Missing key for job ${jobId}. updateProgress`);
    await job.updateProgress(progress);
  }

  /** Removes a job and its logs; 1 when removed, 0 when missing. Throws when the job is locked. */
  async remove(jobId: string, _opts: { removeChildren?: boolean } = {}): Promise<number> {
    await this.waitUntilReady();
    const removed = await this.store.remove(this.qualifiedName, jobId, Date.now());
    if (removed === 0 && (await this.store.getState(this.qualifiedName, jobId)) !== 'unknown') {
      throw new Error(`Job ${jobId} could not be removed because it is locked by another worker`);
    }
    if (removed) this.emit('removed', jobId);
    return removed;
  }

  /** Removes waiting (and, with `delayed`, delayed) jobs. Active and finished jobs stay. */
  async drain(delayed = false): Promise<void> {
    await this.waitUntilReady();
    await this.store.drain(this.qualifiedName, delayed);
  }

  /** Removes up to `limit` jobs of `type` older than `grace` ms; returns their ids. */
  async clean(grace: number, limit: number, type = 'completed'): Promise<string[]> {
    await this.waitUntilReady();
    const ids = await this.store.clean(this.qualifiedName, grace, limit, type, Date.now());
    this.emit('cleaned', ids, type);
    return ids;
  }

  /** Removes the whole queue. Refuses while jobs are active unless `force`. */
  async obliterate(opts: { force?: boolean; count?: number } = {}): Promise<void> {
    await this.waitUntilReady();
    await this.store.pause(this.qualifiedName, true);
    for (;;) {
      const left = await this.store.obliterate(this.qualifiedName, opts.force ?? false, opts.count ?? 1000);
      if (left === -1) throw new Error(`Cannot obliterate queue ${this.name} with active jobs`);
      if (left === 0) return;
    }
  }

  /** Moves failed (or completed) jobs back to waiting, `count` per step. */
  async retryJobs(opts: { count?: number; state?: 'completed' | 'failed'; timestamp?: number } = {}): Promise<void> {
    await this.waitUntilReady();
    const { count = 1000, state = 'failed', timestamp = Date.now() } = opts;
    while ((await this.store.retryJobs(this.qualifiedName, state, count, timestamp)) > 0);
  }

  /** Moves delayed jobs to waiting, `count` per step. */
  async promoteJobs(opts: { count?: number } = {}): Promise<void> {
    await this.waitUntilReady();
    while ((await this.store.promoteJobs(this.qualifiedName, opts.count ?? 1000)) > 0);
  }

  async addJobLog(jobId: string, logRow: string, keepLogs?: number): Promise<number> {
    await this.waitUntilReady();
    const count = await this.store.addLog(this.qualifiedName, jobId, logRow, keepLogs);
    if (count < 0) throw new Error(`Missing key for job ${jobId}. addLog`);
    return count;
  }

  /** Keeps only the newest `maxLength` events of the queue's event log. */
  async trimEvents(maxLength: number): Promise<number> {
    await this.waitUntilReady();
    await this.store.trimEvents(this.qualifiedName, maxLength);
    return 0;
  }
}
