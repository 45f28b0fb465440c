import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimitError } from './errors.js';
import { Job, type JobSettings } from './job.js';
import { JobScheduler } from './job-scheduler.js';
import type { AnyListener, ListenerArgs, WorkerListener } from './listeners.js';
import { QueueBase } from './queue-base.js';
import type { JobRecord } from './store/store.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { scheduleNextIteration } from './worker/attempt.js';
import { FetchLoop } from './worker/fetch-loop.js';
import { FetchRequests } from './worker/fetch-request.js';
import { JobFinisher } from './worker/finishing.js';
import { Heartbeat } from './worker/heartbeat.js';
import type { WorkerHost } from './worker/host.js';
import { jobSettingsOf } from './worker/job-settings.js';
import { LockRenewer } from './worker/lock-renewer.js';
import { isClosedError } from './worker/processor-errors.js';
import { rateLimitGroup, rateLimitQueue } from './worker/rate-limits.js';
import { Runners } from './worker/runners.js';
import { createSandbox, type Sandbox } from './worker/sandbox/index.js';
import { WorkerSpans } from './worker/spans.js';
import { StalledChecker } from './worker/stalled-checker.js';
import {
  attemptTimeout,
  checkedOptions,
  type Processor,
  type ResolvedWorkerOptions,
  validateConcurrency,
  type WorkerOptions,
  withDefaults,
} from './worker/worker-options.js';

export type { BatchOptions, Processor, WorkerOptions } from './worker/worker-options.js';

/** BullMQ's typed events (src/listeners.ts). */
export interface Worker<DataType = any, ResultType = any, NameType extends string = string> {
  on<U extends keyof WorkerListener<DataType, ResultType, NameType>>(
    event: U,
    listener: WorkerListener<DataType, ResultType, NameType>[U],
  ): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<U extends keyof WorkerListener<DataType, ResultType, NameType>>(
    event: U,
    listener: WorkerListener<DataType, ResultType, NameType>[U],
  ): this;
  once(event: string | symbol, listener: AnyListener): this;
  off<U extends keyof WorkerListener<DataType, ResultType, NameType>>(
    event: U,
    listener: WorkerListener<DataType, ResultType, NameType>[U],
  ): this;
  off(event: string | symbol, listener: AnyListener): this;
  emit<U extends keyof WorkerListener<DataType, ResultType, NameType>>(
    event: U,
    ...args: ListenerArgs<WorkerListener<DataType, ResultType, NameType>[U]>
  ): boolean;
  emit(event: string | symbol, ...args: any[]): boolean;
}

/** Runs a processor over a queue's jobs, or hands jobs out through `getNextJob`. BullMQ's `Worker`. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: adds typed event methods only (src/listeners.ts)
export class Worker<DataType = any, ResultType = any, NameType extends string = string> extends QueueBase {
  readonly opts: ResolvedWorkerOptions;
  readonly id = randomUUID();
  protected override readonly waitsForWork = true;
  private readonly processor?: Processor<DataType, ResultType, NameType>;
  /**
   * A processor declaring one or two parameters cannot read the third, the signal: creating an
   * AbortController per job for it cost ~10 µs of CPU per job (bench/NOTES.md).
   */
  private wantsSignal = true;
  private readonly locks: LockRenewer;
  private readonly stalled: StalledChecker;
  private running?: Promise<void>;
  private paused = false;
  private readonly fetcher: FetchLoop;
  private readonly finisher: JobFinisher;
  private readonly runners: Runners;
  private readonly spans = new WorkerSpans(this);

  static RateLimitError(): Error {
    return new RateLimitError();
  }

  private scheduler?: JobScheduler;
  private readonly sandbox?: Sandbox;
  private readonly heartbeat: Heartbeat;
  private readonly host: WorkerHost;

  constructor(
    name: string,
    processor?: Processor<DataType, ResultType, NameType> | string | URL | null,
    opts: WorkerOptions = {},
    backendFactory?: unknown,
  ) {
    super(name, checkedOptions(opts, backendFactory, processor), true);
    this.opts = withDefaults(opts);
    if (typeof processor === 'string' || processor instanceof URL) {
      // A file: run it sandboxed in child processes (or worker threads).
      this.sandbox = createSandbox(processor, {
        useWorkerThreads: this.opts.useWorkerThreads,
        forkOptions: this.opts.workerForkOptions,
        threadOptions: this.opts.workerThreadsOptions,
        concurrency: this.opts.concurrency,
      });
      this.processor = this.sandbox.processor;
    } else {
      this.processor = processor ?? undefined;
      if (this.processor) this.wantsSignal = this.processor.length === 0 || this.processor.length >= 3;
    }
    const requests = new FetchRequests(this.id, this.opts, () => this.fetcher.batchWait);
    const host: WorkerHost = (this.host = {
      store: this.store,
      qualifiedName: this.qualifiedName,
      opts: this.opts,
      isClosed: () => this.closed,
      isPaused: () => this.paused,
      runningCount: () => this.runners.slotsInUse(),
      fetchRequest: (n) => requests.next(n),
      startJobs: (records) => this.runners.start(records),
      metrics: () => this.jobSettings().metrics,
      emit: (event, ...args) => this.emit(event, ...args),
      emitError: (err) => this.emitError(err),
      telemetry: this.telemetry,
      trace: (kind, operation, fn) => this.trace(kind, operation, this.name, fn),
      background: (operation, fn) => this.spans.background(operation, fn),
    });
    this.fetcher = new FetchLoop(host);
    this.finisher = new JobFinisher(host, this.fetcher);
    this.locks = new LockRenewer(host, (ids) => this.runners.checkLost(ids));
    this.stalled = new StalledChecker(host);
    this.runners = new Runners({
      owner: this,
      host,
      processor: (job, token, signal) => this.processor!(job as Job<DataType, ResultType, NameType>, token, signal),
      wantsSignal: this.wantsSignal,
      maxStartedAttempts: this.opts.maxStartedAttempts,
      telemetry: this.telemetry !== undefined,
      locks: this.locks,
      fetcher: this.fetcher,
      finisher: this.finisher,
      spans: this.spans,
      begin: (job) => this.begin(job),
      skipLockRenewal: this.opts.skipLockRenewal === true,
      timeoutOf: (job) => attemptTimeout(job, this.opts),
      settings: () => this.jobSettings(),
      scheduler: () => this.jobScheduler,
    });
    this.heartbeat = new Heartbeat(host, this.id, this.opts.name, () =>
      this.runners.running().map(({ job }) => job.id!),
    );
    this.waitUntilReady()
      .then(() => {
        if (this.closed) return;
        this.emit('ready');
        this.heartbeat.start();
      })
      .catch((err) => this.emitError(err));
    if (this.processor && this.opts.autorun !== false) this.run().catch((err) => this.emitError(err));
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  set concurrency(value: number) {
    validateConcurrency(value);
    this.opts.concurrency = value;
    this.fetcher.freeSlot();
  }

  /**
   * A fetched job starts (run by this worker or handed to getNextJob): a scheduler's job first adds
   * its next iteration; then 'active' is emitted, as BullMQ does for manually fetched jobs too.
   */
  private async begin(job: Job): Promise<boolean> {
    const scheduled = await scheduleNextIteration(job, () => this.jobScheduler, this.host.emitError);
    if (scheduled) this.emit('active', job, 'waiting');
    return scheduled;
  }

  /** @internal */
  jobSettings(): JobSettings {
    return jobSettingsOf(this.opts);
  }

  private emitError(err: unknown): void {
    if (this.closed && isClosedError(err)) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else console.error(err);
  }

  isRunning(): boolean {
    return this.running !== undefined && !this.closed;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** This worker's view of the queue's job schedulers (BullMQ's getter); its errors are emitted here. */
  get jobScheduler(): Promise<JobScheduler> {
    if (!this.scheduler) {
      this.scheduler = new JobScheduler(this, this.opts.settings?.repeatStrategy);
      this.scheduler.on('error', (err) => this.emit('error', err));
    }
    return Promise.resolve(this.scheduler);
  }

  /** Starts the processing loop; resolves when the worker closes. */
  async run(): Promise<void> {
    // BullMQ's texts; run() rejects rather than throws, as BullMQ's async run() does.
    if (!this.processor) throw new Error('No process function is defined. Use getNextJob() to fetch jobs manually.');
    if (this.running) throw new Error('Worker is already running.');
    if (this.closed || this.paused) return; // as BullMQ: a paused worker's run() returns at once
    this.running = this.loop().then(
      () => {
        this.running = undefined;
        // The loop ended on a pause that was lifted before this ran: run again. (Not after a
        // failure: a loop that cannot start, say a store that refuses the queue, must not spin.)
        if (!this.paused && !this.closed) this.run().catch((err) => this.emitError(err));
      },
      (err) => {
        this.running = undefined;
        throw err;
      },
    );
    return this.running;
  }

  /**
   * Fetches and runs jobs until the worker closes or pauses; on pause it ends once the running jobs
   * finished, so that `run()` resolves and `isRunning()` is false, as in BullMQ (`resume()` runs again).
   */
  private async loop(): Promise<void> {
    await this.waitUntilReady();
    if (!this.opts.skipStalledCheck) await this.startStalledChecker();
    // The first fetch waits one turn of the event loop, as a network round trip would: on SQLite a
    // worker is ready at once, and code that adds a job and then listens for 'active' (or a worker
    // already waiting for that job) would otherwise lose the race to a worker just constructed.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      await this.fetcher.run();
      if (this.closed) return;
      if (!this.paused) continue; // resumed before the fetch loop noticed the pause
      await this.whenIdle();
      if (this.paused || this.closed) return;
    }
  }

  /**
   * Takes the next job for `token` (manual processing), or undefined when none is ready. With
   * `block` (default) waits up to `drainDelay` seconds for one.
   */
  async getNextJob(
    token: string,
    { block = true }: { block?: boolean } = {},
  ): Promise<Job<DataType, ResultType, NameType> | undefined> {
    await this.waitUntilReady();
    const record = await this.fetcher.fetchOne(token, block);
    return this.spans.getNextJob(record ? await this.started(record) : undefined, block);
  }

  /**
   * Runs the processor on `job` (taken with `getNextJob(token)`) and completes or fails it with the
   * worker's events, as the worker's own jobs; `fetchNextCallback`, asked once the processor is done,
   * says whether to take the next job in the same step. Resolves to that job (held by `token`, its
   * 'active' emitted) or undefined; errors are emitted, never thrown. BullMQ's `processJob`; the
   * fourth parameter of BullMQ's older versions is accepted and ignored.
   */
  async processJob(
    job: Job<DataType, ResultType, NameType>,
    token: string,
    fetchNextCallback: () => boolean = () => true,
    _jobsInProgress?: Set<{ job: Job; ts: number }>,
  ): Promise<Job<DataType, ResultType, NameType> | undefined> {
    const next = await this.runners.jobs.processJob(job, token, fetchNextCallback);
    return next ? this.started(next) : undefined;
  }

  /** A job taken for a caller (getNextJob, processJob), begun; undefined when it must not run. */
  private async started(record: JobRecord): Promise<Job<DataType, ResultType, NameType> | undefined> {
    const job = Job.fromJSON<DataType, ResultType, NameType>(this, record);
    return (await this.begin(job)) ? job : undefined;
  }

  /** Aborts the signal of a running job; a processor honouring it fails the job. False when not running here. */
  cancelJob(jobId: string, reason?: string): boolean {
    const running = this.runners.find(jobId);
    if (!running) return false;
    // The reason as given, as BullMQ passes it: `signal.reason === reason` in the processor.
    running.controller?.abort(reason);
    return true;
  }

  cancelAllJobs(reason?: string): void {
    for (const { job } of this.runners.running()) this.cancelJob(job.id!, reason);
  }

  /** Extends the locks of jobs held by `tokens`; returns the ids whose lock was gone. */
  async extendJobLocks(jobIds: string[], tokens: string[], duration: number): Promise<string[]> {
    return this.store.extendLocks(this.qualifiedName, jobIds, tokens, duration, Date.now());
  }

  /** Waits `ms` (or until the abort controller fires). */
  async delay(ms = 0, abortController?: AbortController): Promise<void> {
    await sleep(ms, undefined, { signal: abortController?.signal }).catch(() => undefined);
  }

  /** Starts the stalled-job checker for manually processed jobs. */
  async startStalledCheckTimer(): Promise<void> {
    await this.waitUntilReady();
    if (this.closed || this.opts.skipStalledCheck) return;
    await this.startStalledChecker();
  }

  private async startStalledChecker(): Promise<void> {
    await this.spans.internal('startStalledCheckTimer', async () => undefined);
    this.stalled.start();
    await this.stalled.check();
  }

  /** Stops every worker of this queue from taking jobs for `expireTimeMs`. */
  rateLimit(expireTimeMs: number): Promise<void> {
    return rateLimitQueue(this.host, this.spans, () => this.waitUntilReady(), expireTimeMs);
  }

  /**
   * BullMQ Pro's manual group limit: no job of `job`'s group starts for `expireTimeMs` (other groups
   * go on). Throw `Worker.RateLimitError()` after it to give the job back to its group.
   */
  rateLimitGroup(job: Job, expireTimeMs: number): Promise<void> {
    return rateLimitGroup(this.host, this.name, () => this.waitUntilReady(), job, expireTimeMs);
  }

  /** Stops taking new jobs; waits for running ones unless `doNotWaitActive`. */
  async pause(doNotWaitActive = false): Promise<void> {
    if (this.paused) return;
    await this.spans.internal('pause', async (span) => {
      span?.setAttributes({ [A.WorkerDoNotWaitActive]: doNotWaitActive });
      this.paused = true;
      this.fetcher.wake.abort();
      if (!doNotWaitActive) {
        await this.whenIdle();
        await this.running?.catch(() => undefined); // the loop ends after the jobs: isRunning() is false
      }
      this.emit('paused');
    });
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    await this.spans.internal('resume', async () => {
      this.paused = false;
      this.fetcher.freeSlot();
      // The loop ended on pause: start it again, as BullMQ's resume() calls run().
      if (this.processor && !this.running && !this.closed) {
        this.run().catch((err) => this.emitError(err));
      }
      this.emit('resumed');
    });
  }

  private async whenIdle(): Promise<void> {
    while (this.runners.slotsInUse() > 0) await this.fetcher.slotFreed();
  }

  /** Stops the worker: no new jobs; waits for running jobs unless `force`. */
  override close(force = false): Promise<void> {
    this.closeStarted.abort();
    if (!this.closing) {
      this.emit('closing', 'closing');
      this.closing = this.spans.internal('close', (span) => {
        span?.setAttributes({ [A.WorkerForceClose]: force });
        return this.shutdownWorker(force);
      });
    }
    return this.closing;
  }

  private async shutdownWorker(force: boolean): Promise<void> {
    this.fetcher.wake.abort();
    this.fetcher.freeSlot();
    this.stalled.stop();
    this.heartbeat.stop();
    if (!force) await this.whenIdle();
    for (const { controller } of this.runners.running()) if (force) controller?.abort();
    await this.running?.catch(() => undefined);
    // The loop may have started jobs from a fetch that was in flight when close began.
    if (!force) await this.whenIdle();
    await this.sandbox?.close().catch(() => undefined);
    this.locks.stop();
    // Never connected: nothing to unregister, and the command would wait for a connection.
    if (this.isReady) await this.store.unregisterWorker(this.qualifiedName, this.id).catch(() => undefined);
    await this.shutdown();
    this.emit('closed');
  }
}
