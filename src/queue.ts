import { moveError, ValidationError } from './errors.js';
import { parseField } from './job/serialise.js';
import { Job, type JobProgress } from './job.js';
import {
  type AdvancedRepeatOptions,
  JobScheduler,
  type JobSchedulerJson,
  type JobSchedulerTemplate,
  type RepeatOptions,
} from './job-scheduler.js';
import type { AnyListener, ListenerArgs, QueueListener } from './listeners.js';
import type { BulkJobOptions, JobsOptions } from './options/job-options.js';
import { toRetention } from './options/retention.js';
import { eventsMaxLen, type StreamsOptions } from './options/streams.js';
import { toJson, validateJobOptions } from './options/validate.js';
import { type QueueBaseOptions, withBackendFactory } from './queue-base.js';
import { QueueRepeat, type RepeatableJobsOptions } from './queue-repeat.js';
import { cancelledReason } from './stop-errors.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';
import { withProducerMetadata } from './telemetry/trace.js';
import { traceAdd } from './telemetry/tracing.js';
import { LIBRARY_VERSION } from './version.js';

export interface QueueOptions extends QueueBaseOptions {
  /** Options merged under every job added to this queue. */
  defaultJobOptions?: JobsOptions;
  /** BullMQ's advanced settings: `repeatStrategy` computes pattern schedules' times. */
  settings?: AdvancedRepeatOptions;
  /** Do not record this library's version (nor the event cap) in the queue's meta on open (BullMQ's option). */
  skipMetasUpdate?: boolean;
  /** The event log's cap, recorded in the queue's meta on open (options/streams.ts). */
  streams?: StreamsOptions;
}

/** BullMQ's typed events (src/listeners.ts). */
export interface Queue<DataType = any, ResultType = any, NameType extends string = string> {
  on<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(
    event: U,
    listener: QueueListener<Job<DataType, ResultType, NameType>>[U],
  ): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(
    event: U,
    listener: QueueListener<Job<DataType, ResultType, NameType>>[U],
  ): this;
  once(event: string | symbol, listener: AnyListener): this;
  off<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(
    event: U,
    listener: QueueListener<Job<DataType, ResultType, NameType>>[U],
  ): this;
  off(event: string | symbol, listener: AnyListener): this;
  emit<U extends keyof QueueListener<Job<DataType, ResultType, NameType>>>(
    event: U,
    ...args: ListenerArgs<QueueListener<Job<DataType, ResultType, NameType>>[U]>
  ): boolean;
  emit(event: string | symbol, ...args: any[]): boolean;
}

/** Adds and inspects jobs. BullMQ's `Queue`, on either store. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: adds typed event methods only (src/listeners.ts)
export class Queue<DataType = any, ResultType = any, NameType extends string = string> extends QueueRepeat<
  DataType,
  ResultType,
  NameType
> {
  readonly opts: QueueOptions;
  private readonly jobsOpts: JobsOptions;
  private scheduler?: JobScheduler;
  private metaReady?: Promise<void>;
  private readonly maxLenEvents: number;

  constructor(name: string, opts: QueueOptions = {}, backendFactory?: unknown) {
    // Checked before the store opens: a refused option leaves no connection behind.
    validateJobOptions(opts.defaultJobOptions ?? {});
    const maxLenEvents = eventsMaxLen(opts.streams);
    super(name, withBackendFactory(opts, backendFactory), false);
    this.opts = opts;
    this.jobsOpts = opts.defaultJobOptions ?? {};
    this.maxLenEvents = maxLenEvents;
    if (!opts.skipWaitingForReady) this.waitUntilReady().catch((err) => this.emitError(err));
  }

  /** Resolves when the store is ready and, unless `skipMetasUpdate`, the queue's meta holds this version. */
  override waitUntilReady(): Promise<void> {
    if (!this.metaReady) {
      const ready = super.waitUntilReady().then(() => {
        if (!this.opts.skipMetasUpdate && !this.closed) {
          return this.store.meta.writeVersion(this.qualifiedName, LIBRARY_VERSION, this.maxLenEvents);
        }
      });
      this.metaReady = ready;
      // A failure is not kept (the store may come up later): the next call tries again.
      ready.catch(() => {
        if (this.metaReady === ready) this.metaReady = undefined;
      });
    }
    return this.metaReady;
  }

  private emitError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * What BullMQ writes to the queue's meta on open. Tools read `version` to tell a BullMQ queue
   * (bull-board's adapter accepts one whose version starts with `bullmq`): Docket's says `bullmq-docket:…`.
   */
  get metaValues(): Record<string, string | number> {
    return { 'opts.maxLenEvents': this.maxLenEvents, version: LIBRARY_VERSION };
  }

  get defaultJobOptions(): JobsOptions {
    return { ...this.jobsOpts };
  }

  /** Adds one job; a custom `jobId` that exists returns that job. With `repeat`, see queue-repeat.ts (v5). */
  async add(
    name: NameType,
    data: DataType,
    opts: RepeatableJobsOptions = {},
  ): Promise<Job<DataType, ResultType, NameType>> {
    if (opts.repeat) return this.addRepeatable(name, data, { ...this.jobsOpts, ...opts });
    return this.trace(SpanKind.PRODUCER, 'add', `${this.name}.${name}`, async ({ span, metadata }) => {
      // BullMQ's add refuses these first, in these words, inside its span (addBulk says integer ids are refused).
      if (opts.jobId === '0' || opts.jobId?.startsWith?.('0:'))
        throw new ValidationError("JobId cannot be '0' or start with '0:'");
      const [job] = await this.addJobs([{ name, data, opts: withProducerMetadata(opts, metadata()) }]);
      span?.setAttributes({ [A.JobName]: name, [A.JobId]: job.id });
      return job;
    });
  }

  /** Adds many jobs in one atomic step: all are stored or none. */
  async addBulk(
    jobs: { name: NameType; data: DataType; opts?: BulkJobOptions }[],
  ): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.trace(SpanKind.PRODUCER, 'addBulk', this.name, ({ span, metadata }) => {
      span?.setAttributes({ [A.BulkNames]: jobs.map((j) => j.name), [A.BulkCount]: jobs.length });
      const meta = metadata();
      return this.addJobs(jobs.map((j) => ({ ...j, opts: withProducerMetadata(j.opts ?? {}, meta) })));
    });
  }

  /** Stores jobs with the queue's default options; Docket's own tracing applies when `telemetry` is not set. */
  private async addJobs(
    jobs: { name: NameType; data: DataType; opts: BulkJobOptions }[],
  ): Promise<Job<DataType, ResultType, NameType>[]> {
    const merged = jobs.map((j) => ({ name: j.name, data: j.data, opts: { ...this.jobsOpts, ...j.opts } }));
    const store = async (traced: typeof merged) => {
      const added = await Job.createBulk<DataType, ResultType, NameType>(this, traced);
      for (const job of added) this.emit('waiting', job);
      return added;
    };
    return this.telemetry ? store(merged) : traceAdd(this.name, merged, store);
  }

  async pause(): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'pause', this.name, async () => {
      await this.waitUntilReady();
      await this.store.pause(this.qualifiedName, true);
      this.emit('paused');
    });
  }

  async resume(): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'resume', this.name, async () => {
      await this.waitUntilReady();
      await this.store.pause(this.qualifiedName, false);
      this.emit('resumed');
    });
  }

  override async close(): Promise<void> {
    if (this.closed) return super.close();
    await this.trace(SpanKind.INTERNAL, 'close', this.name, () => super.close());
  }

  async isPaused(): Promise<boolean> {
    await this.waitUntilReady();
    return this.store.isPaused(this.qualifiedName);
  }

  /** Stops every worker of this queue from taking jobs for `expireTimeMs`. */
  async rateLimit(expireTimeMs: number): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'rateLimit', this.name, async ({ span }) => {
      span?.setAttributes({ [A.QueueRateLimit]: expireTimeMs });
      await this.waitUntilReady();
      await this.store.rateLimit(this.qualifiedName, expireTimeMs, Date.now());
    });
  }

  /**
   * BullMQ's answer: with `maxJobs` (or a global rate limit), the ms the limit lasts once that many
   * jobs started in the window (a manual `rateLimit` counts as reached), else 0; with neither, the
   * ms a manual limit or a started window lasts, or -2 when none is in force.
   */
  async getRateLimitTtl(maxJobs?: number): Promise<number> {
    await this.waitUntilReady();
    return this.store.getRateLimitTtl(this.qualifiedName, Date.now(), maxJobs ?? 0);
  }

  /** Sets a job's progress; the queue emits `progress(jobId, progress)` (a Job's own update emits the job). */
  async updateJobProgress(jobId: string, progress: JobProgress): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'updateJobProgress', this.name, async ({ span }) => {
      span?.setAttributes({ [A.JobId]: jobId, [A.JobProgress]: JSON.stringify(progress) });
      await this.waitUntilReady();
      const code = await this.store.updateProgress(this.qualifiedName, jobId, toJson(progress, 'progress'));
      if (code !== 0) throw moveError(code, jobId, 'updateProgress');
      this.emit('progress', jobId, progress);
    });
  }

  protected override async shutdown(): Promise<void> {
    await this.metaReady?.catch(() => undefined);
    await super.shutdown();
  }

  /** Removes a job and its logs; 1 when removed, 0 when missing. Throws when the job is locked. */
  async remove(jobId: string, { removeChildren = true }: { removeChildren?: boolean } = {}): Promise<number> {
    return this.trace(SpanKind.INTERNAL, 'remove', this.name, async ({ span }) => {
      span?.setAttributes({ [A.JobId]: jobId, [A.JobOptions]: JSON.stringify({ removeChildren }) });
      await this.waitUntilReady();
      const removed = await this.store.remove(this.qualifiedName, jobId, Date.now(), removeChildren);
      if (removed < 0) throw moveError(removed, jobId, 'removeJob');
      if (removed === 0 && (await this.store.getState(this.qualifiedName, jobId)) !== 'unknown') {
        throw new Error(`Job ${jobId} could not be removed because it is locked by another worker`);
      }
      if (removed) this.emit('removed', jobId);
      return removed;
    });
  }

  /**
   * Docket: cancels job `jobId` wherever it is (issue 21). The job fails for good at once with
   * failedReason `Job cancelled: <reason>`, whatever attempts it has left (no retry, as after an
   * UnrecoverableError), from any unfinished state: a waiting, prioritized, delayed or
   * waiting-children job simply fails; an active one loses its lock in the same step, and the worker
   * holding it, in any process, aborts the processor's signal with a JobCancelledError and frees the
   * slot (a sandboxed processor's child is terminated) within about a second. The job's
   * `removeOnFail` applies. True when the job was cancelled; false when it is missing or had finished.
   * (`worker.cancelJob` keeps BullMQ's meaning: it only aborts the signal of a job that worker runs.)
   */
  async cancelJob(jobId: string, reason?: string): Promise<boolean> {
    return this.trace(SpanKind.INTERNAL, 'cancelJob', this.name, async ({ span }) => {
      span?.setAttributes({ [A.JobId]: jobId });
      await this.waitUntilReady();
      const record = await this.store.getJob(this.qualifiedName, jobId);
      if (!record) return false;
      const opts = (parseField(record.opts) ?? {}) as JobsOptions;
      const result = await this.store.cancelJob(
        this.qualifiedName,
        jobId,
        cancelledReason(reason),
        Date.now(),
        toRetention(opts.removeOnFail),
      );
      return result.code === 0;
    });
  }

  async addJobLog(jobId: string, logRow: string, keepLogs?: number): Promise<number> {
    await this.waitUntilReady();
    const count = await this.store.addLog(this.qualifiedName, jobId, logRow, keepLogs);
    if (count < 0) throw new Error(`Missing key for job ${jobId}. addLog`);
    return count;
  }

  // ── job schedulers ────────────────────────────────────────────────────────────────

  /** This queue's job schedulers (BullMQ's getter); its errors are emitted by the queue. */
  get jobScheduler(): Promise<JobScheduler> {
    if (!this.scheduler) {
      this.scheduler = new JobScheduler(this, this.opts.settings?.repeatStrategy);
      this.scheduler.on('error', (err) => this.emit('error', err));
    }
    return Promise.resolve(this.scheduler);
  }

  /**
   * Creates or replaces a job scheduler and resolves with its current job: an `every` scheduler's
   * first job runs at once, a pattern's at its next time (delayed until then).
   */
  async upsertJobScheduler(
    jobSchedulerId: NameType,
    repeatOpts: Omit<RepeatOptions, 'key'>,
    jobTemplate: JobSchedulerTemplate<DataType, NameType> = {},
  ): Promise<Job<DataType, ResultType, NameType> | undefined> {
    if (repeatOpts.endDate && +new Date(repeatOpts.endDate) < Date.now()) {
      throw new Error('End date must be greater than current timestamp');
    }
    return (await this.jobScheduler).upsertJobScheduler<DataType, ResultType, NameType>(
      jobSchedulerId,
      repeatOpts,
      jobTemplate.name ?? jobSchedulerId,
      jobTemplate.data ?? ({} as DataType),
      { ...this.jobsOpts, ...jobTemplate.opts },
      { override: true },
    );
  }

  async getJobScheduler(id: string): Promise<JobSchedulerJson<DataType> | undefined> {
    return (await this.jobScheduler).getScheduler<DataType>(id);
  }

  async getJobSchedulers(start = 0, end = -1, asc = false): Promise<JobSchedulerJson<DataType>[]> {
    return (await this.jobScheduler).getJobSchedulers<DataType>(start, end, asc);
  }

  async getJobSchedulersCount(): Promise<number> {
    return (await this.jobScheduler).getSchedulersCount();
  }

  async removeJobScheduler(jobSchedulerId: string): Promise<boolean> {
    return (await this.jobScheduler).removeJobScheduler(jobSchedulerId);
  }
}
