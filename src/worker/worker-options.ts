import type { ForkOptions } from 'node:child_process';
import type { WorkerOptions as WorkerThreadsOptions } from 'node:worker_threads';
import type { Job } from '../job.js';
import type { AdvancedRepeatOptions } from '../job-scheduler/repeat.js';
import type { BackoffStrategy } from '../options/backoff.js';
import type { KeepJobs } from '../options/job-options.js';
import { validateTimeout } from '../options/validate.js';
import { type QueueBaseOptions, withBackendFactory } from '../queue-base.js';
import type { GroupLimits } from '../store/store.js';
import { processorUrl } from './sandbox/index.js';

// Declared here rather than in worker.ts (which re-exports them) so that nothing under worker/ imports worker.ts.

export type Processor<T = any, R = any, N extends string = string> = (
  job: Job<T, R, N>,
  token?: string,
  signal?: AbortSignal,
) => Promise<R>;

export interface WorkerOptions extends QueueBaseOptions {
  /** Stored on each job it takes as `processedBy`. */
  name?: string;
  autorun?: boolean;
  concurrency?: number;
  limiter?: { max: number; duration: number };
  /**
   * BullMQ Pro's group limits, kept across all workers of the queue: at most `concurrency` active
   * jobs per group, at most `limit.max` starts per `limit.duration` ms per group. A group at its
   * limit is passed over; other groups' jobs keep running. Per-group settings on the queue win.
   */
  group?: GroupLimits;
  /**
   * The longest a rate-limited worker idles before it fetches again (ms, default 30 000, as BullMQ):
   * each fetch also promotes delayed jobs that came due.
   */
  maximumRateLimitDelay?: number;
  maxStalledCount?: number;
  maxStartedAttempts?: number;
  stalledInterval?: number;
  lockDuration?: number;
  lockRenewTime?: number;
  skipStalledCheck?: boolean;
  skipLockRenewal?: boolean;
  /** Seconds a worker blocks waiting for work before looking again (BullMQ's unit). */
  drainDelay?: number;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  runRetryDelay?: number;
  settings?: { backoffStrategy?: BackoffStrategy } & AdvancedRepeatOptions;
  /** Record per-minute completed/failed counts, keeping `maxDataPoints` minutes (see MetricsTime). */
  metrics?: { maxDataPoints?: number };
  /** Run a sandboxed (file) processor in worker threads instead of child processes. */
  useWorkerThreads?: boolean;
  /**
   * Options for the child processes of a sandboxed processor (`child_process.fork`), given over
   * Docket's own (`execArgv`, `stdio`), as in BullMQ: `env`, `execArgv`, `serialization`, …
   */
  workerForkOptions?: ForkOptions;
  /**
   * Options for the worker threads of a sandboxed processor with `useWorkerThreads`
   * (`new worker_threads.Worker`), given over Docket's own, as in BullMQ: `env`, `resourceLimits`, …
   */
  workerThreadsOptions?: WorkerThreadsOptions;
  /**
   * Docket: the longest one attempt of a job may run (ms) unless the job sets its own `timeout`.
   * Past it the processor's signal aborts with a TimeoutError, the attempt fails with it (retried per
   * `attempts`/`backoff`), the slot is freed even if the processor ignores the signal, and a
   * sandboxed processor's child process or thread is terminated. See docs/patterns/timeouts.md.
   */
  timeout?: number;
  /**
   * BullMQ Pro's `ttl`: the longest processing time (ms) before the job is cancelled, for every job
   * (a number) or per job name (a record; names not in it have none). Docket treats it as `timeout`
   * (it wins over `timeout`, and a job's own `timeout` wins over both).
   */
  ttl?: number | Record<string, number>;
  /**
   * BullMQ Pro's batches: the processor runs once per batch of up to `size` jobs, receiving one
   * wrapper job whose `getBatch()` lists them. See {@link BatchOptions} and docs/patterns/batches.md.
   */
  batch?: BatchOptions;
}

/** BullMQ Pro's worker option `batch` (docs/patterns/batches.md). */
export interface BatchOptions {
  /** The most jobs in one batch (an integer >= 1). */
  size: number;
  /**
   * Wait until at least this many jobs are ready before taking a batch (at most `size`); with groups,
   * only with `groupAffinity` (then: this many in the next group in turn).
   */
  minSize?: number;
  /** The longest wait (ms) for `minSize` jobs; then the batch takes what is ready. Without it: no limit. */
  timeout?: number;
  /** With groups: every batch holds jobs of one group only (or ungrouped jobs only). */
  groupAffinity?: boolean;
}

/** Rejects bad options before the worker opens its store (BullMQ's texts, which user code matches on). */
export function checkedOptions(opts: WorkerOptions, backendFactory: unknown, processor?: unknown): WorkerOptions {
  const checked = withBackendFactory(opts, backendFactory);
  const sandboxed = typeof processor === 'string' || processor instanceof URL;
  if (opts.concurrency !== undefined) validateConcurrency(opts.concurrency);
  for (const key of ['maxStalledCount', 'maxStartedAttempts'] as const) {
    const v = opts[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0)))
      throw new TypeError(`${key} must be greater or equal than 0 (got ${String(v)})`);
  }
  for (const key of ['lockDuration', 'stalledInterval', 'drainDelay'] as const) {
    const v = opts[key];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0)))
      throw new TypeError(`${key} must be greater than 0 (got ${String(v)})`);
  }
  validateTimeout(opts.timeout, 'timeout');
  const ttl = opts.ttl;
  if (typeof ttl === 'object' && ttl !== null) {
    for (const [name, ms] of Object.entries(ttl)) validateTimeout(ms, `ttl.${name}`);
  } else if (ttl !== undefined) validateTimeout(ttl, 'ttl');
  if (opts.batch !== undefined) validateBatch(opts.batch);
  if (opts.batch && sandboxed)
    throw new TypeError('batch is not supported with a sandboxed processor (a file), as in BullMQ Pro');
  if (sandboxed) processorUrl(processor); // throws for a missing file
  return checked;
}

function validateBatch(batch: BatchOptions): void {
  if (typeof batch !== 'object' || batch === null) throw new TypeError('batch must be an object like { size: 10 }');
  const { size, minSize, timeout, groupAffinity } = batch;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
    throw new TypeError(`batch.size must be an integer greater than 0 (got ${String(size)})`);
  if (
    minSize !== undefined &&
    (typeof minSize !== 'number' || !Number.isInteger(minSize) || minSize < 1 || minSize > size)
  )
    throw new TypeError(`batch.minSize must be an integer from 1 to batch.size (${size}) (got ${String(minSize)})`);
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0))
    throw new TypeError(`batch.timeout must be a number of ms, 0 or more (got ${String(timeout)})`);
  if (groupAffinity !== undefined && typeof groupAffinity !== 'boolean')
    throw new TypeError(`batch.groupAffinity must be a boolean (got ${String(groupAffinity)})`);
}

/** The timeout of one attempt of `job` (ms), or 0 for none: job `timeout`, else worker `ttl`, else `timeout`. */
export function attemptTimeout(job: Pick<Job, 'name' | 'opts'>, opts: Pick<WorkerOptions, 'timeout' | 'ttl'>): number {
  if (job.opts.timeout !== undefined) return job.opts.timeout;
  const ttl = opts.ttl;
  if (typeof ttl === 'number') return ttl;
  if (ttl && Object.hasOwn(ttl, job.name)) return ttl[job.name];
  return opts.timeout ?? 0;
}

/**
 * BullMQ's text for 0, NaN and the like; Docket also wants an integer (BullMQ would take 1.5 and
 * run one job at a time), so a fraction gets a text of its own.
 */
export function validateConcurrency(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new TypeError('concurrency must be a finite number greater than 0');
  }
  if (!Number.isInteger(value)) throw new TypeError(`concurrency must be an integer (got ${value})`);
}

/** Worker options with BullMQ's defaults filled in. */
export type ResolvedWorkerOptions = Required<
  Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'drainDelay'>
> &
  WorkerOptions;

export function withDefaults(opts: WorkerOptions): ResolvedWorkerOptions {
  return {
    concurrency: 1,
    lockDuration: 30_000,
    stalledInterval: 30_000,
    maxStalledCount: 1,
    drainDelay: 5,
    maximumRateLimitDelay: 30_000,
    ...opts,
  };
}
