/** Job options as BullMQ names them. */

export type BackoffOptions =
  | number
  | { type: 'fixed' | 'exponential' | (string & {}); delay?: number; jitter?: number };

/** How many finished jobs to keep: true = remove at once, number = keep that many, or age (s) / count. */
export type KeepJobs = boolean | number | { age?: number; count?: number; limit?: number };

export interface ParentOptions {
  id: string;
  /** The parent queue's qualified name, e.g. `bull:parents` (`job.queueQualifiedName`). */
  queue: string;
}

export interface JobsOptions {
  timestamp?: number;
  /** 0 = no priority; 1 runs first among prioritised jobs; up to 2 097 151. */
  priority?: number;
  /** ms to wait before the job may run. */
  delay?: number;
  /** Total tries, the first included (default 1). */
  attempts?: number;
  backoff?: BackoffOptions;
  lifo?: boolean;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  keepLogs?: number;
  stackTraceLimit?: number;
  /**
   * Docket: the longest one attempt may run (ms). Past it the processor's signal aborts with a
   * TimeoutError, the attempt fails with it (retried per `attempts`/`backoff`) and the worker's slot
   * is freed even if the processor ignores the signal. Overrides the worker's `timeout` / `ttl`;
   * 0: no timeout for this job.
   */
  timeout?: number;
  sizeLimit?: number;
  jobId?: string;
  parent?: ParentOptions;
  failParentOnFailure?: boolean;
  continueParentOnFailure?: boolean;
  ignoreDependencyOnFailure?: boolean;
  removeDependencyOnFailure?: boolean;
  deduplication?: { id: string; ttl?: number; extend?: boolean; replace?: boolean; keepLastIfActive?: boolean };
  /** OpenTelemetry: the producer's trace context travels in `metadata`. */
  telemetry?: { metadata?: string; omitContext?: boolean };
  /**
   * BullMQ Pro's groups: the job runs in group `id`, FIFO within the group (or by `priority` within
   * it: 0 first), groups taken round-robin. `maxSize`: the add fails with GroupMaxSizeExceededError
   * when the group already has that many waiting jobs. See docs/patterns/groups.md.
   */
  group?: { id: string; priority?: number; maxSize?: number };
  /** Set on jobs produced by a job scheduler. */
  repeatJobKey?: string;
  [key: string]: unknown;
}

export type BulkJobOptions = JobsOptions;

/** BullMQ's PRIORITY_LIMIT, 2^21 - 1. */
export const MAX_PRIORITY = 2_097_151;
