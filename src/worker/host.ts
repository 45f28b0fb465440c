import type { KeepJobs } from '../options/job-options.js';
import type { FetchRequest, JobRecord, Store } from '../store/store.js';
import type { Span, SpanKind, Telemetry } from '../telemetry/interface.js';
import type { SpanScope } from '../telemetry/trace.js';

/**
 * What the fetch loop and the finishing steps need from their Worker. The Worker hands them an
 * object of this shape (not itself), so no module under worker/ imports worker.ts.
 */
export interface WorkerHost {
  readonly store: Store;
  readonly qualifiedName: string;
  /** The worker's options, read live (concurrency may change while it runs). */
  readonly opts: {
    concurrency: number;
    drainDelay: number;
    runRetryDelay?: number;
    removeOnComplete?: KeepJobs;
    maximumRateLimitDelay?: number;
    lockDuration: number;
    lockRenewTime?: number;
    stalledInterval: number;
    maxStalledCount: number;
    /** BullMQ Pro's batches: a fetch takes one batch, and a slot runs a whole batch. */
    batch?: { size: number; minSize?: number; timeout?: number; groupAffinity?: boolean };
  };
  /** Closed or closing. */
  isClosed(): boolean;
  isPaused(): boolean;
  /** Jobs this worker is running now (with `batch`: batches). */
  runningCount(): number;
  /** A fetch for `n` jobs, each with a fresh lock token of this worker. */
  fetchRequest(n: number): FetchRequest;
  /**
   * Runs fetched jobs, each (and the jobs its finishing step fetches) in a slot of its own; with
   * `batch`, all of them as one batch in one slot.
   */
  startJobs(records: JobRecord[]): void;
  /** Per-minute metrics data points to keep, when the worker records metrics. */
  metrics(): number | undefined;
  emit(event: string, ...args: unknown[]): boolean;
  emitError(err: unknown): void;
  /** The worker's `telemetry` option (job metrics). */
  readonly telemetry?: Telemetry;
  /** A span of the worker's queue through its `telemetry` option (QueueBase.trace). */
  trace<T>(kind: SpanKind, operation: string, fn: (scope: SpanScope) => Promise<T>): Promise<T>;
  /** A background step (lock renewal, stalled check) in the worker's own span, outside any caller's context. */
  background<T>(operation: string, fn: (span?: Span) => Promise<T>): Promise<T>;
}
