import type { BackoffStrategy } from '../options/backoff.js';
import type { JobsOptions, KeepJobs } from '../options/job-options.js';
import type { QueueBase } from '../queue-base.js';
import type { GroupLimits, JobRecord } from '../store/store.js';

/** What a Job consults when it moves itself; a Worker supplies its own options. */
export interface JobSettings {
  lockDuration: number;
  backoffStrategy?: BackoffStrategy;
  maxStartedAttempts?: number;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  processedBy?: string;
  limiter?: { max: number; duration: number };
  /** Per-group limits (BullMQ Pro's worker option `group`). */
  group?: GroupLimits;
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

/**
 * A job's state, as the helpers under src/job/ read and update it: `Job` without its methods. They
 * take this shape rather than the class so that none of them imports job.ts.
 */
export interface JobFields<DataType = any, ReturnType = any> {
  id?: string;
  name: string;
  data: DataType;
  opts: JobsOptions;
  progress: JobProgress;
  returnvalue: ReturnType | null;
  failedReason?: string;
  stacktrace: string[];
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  delay: number;
  priority: number;
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  processedBy?: string;
  token?: string;
  deferredFailure?: string;
  /** Durable steps' recorded results, step id → result (job.step). */
  steps: Record<string, unknown>;
  parent?: { id: string; queueKey: string };
  parentKey?: string;
  readonly queue: JobOwner;
  readonly queueQualifiedName: string;
}

/** The job's id; throws for a job not added to a queue yet. */
export function idOf(job: Pick<JobFields, 'id'>): string {
  if (job.id === undefined) throw new Error('This job has not been added to a queue yet');
  return job.id;
}
