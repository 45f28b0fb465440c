import type { JobsOptions } from '../options/job-options.js';
import type { JobOwner, JobProgress } from './types.js';

/**
 * A job's fields as BullMQ exposes them, and how a new one is set up from its options. `Job` adds the
 * operations (job.ts); kept apart so that the class's operations file stays readable.
 */
export class JobBase<DataType = any, ReturnType = any, NameType extends string = string> {
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
  /**
   * A failure waiting for the job's next fetch (it stalled more than maxStalledCount, or a
   * failParentOnFailure child failed): a Worker fails the job with it instead of running the
   * processor, as BullMQ 6 does.
   */
  deferredFailure?: string;
  /** Durable steps' recorded results, step id → result (see `step`); cleared by `retry()`. */
  steps: Record<string, unknown> = {};
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
}
