/**
 * Shows Docket queues in bull-board (`@bull-board/api`). Its own `BullMQAdapter` refuses anything
 * that is not a `bullmq` Queue (it checks `instanceof Queue` or `metaValues.version`), and reads
 * Redis directly for some panels, so Docket brings this adapter instead:
 *
 *   createBullBoard({ queues: [new DocketAdapter(queue)], serverAdapter })
 *
 * It works on both stores. Jobs are handed to the board as BullMQ's `Job#toJSON()` shapes them
 * (data, opts and return value as values, not JSON strings). Not supported, and hidden or inert on
 * the board: job schedulers, per-minute metrics, worker lists, global concurrency / rate limits.
 */
import { BaseAdapter } from '@bull-board/api/dist/queueAdapters/base.js';
import type {
  JobCleanStatus,
  JobCounts,
  JobRetryStatus,
  JobState,
  JobStatus,
  QueueAdapterOptions,
  QueueJob,
  QueueJobJson,
  QueueJobOptions,
  QueueMetrics,
  Status,
} from '@bull-board/api/dist/types.js';
import type { Job } from '../job.js';
import type { Queue } from '../queue.js';

const JOB_STATUSES: JobStatus[] = [
  'active',
  'waiting',
  'waiting-children',
  'prioritized',
  'completed',
  'failed',
  'delayed',
];

/** A Docket job as bull-board expects one. */
function boardJob(job: Job): QueueJob {
  return {
    opts: job.opts as QueueJob['opts'],
    promote: () => job.promote(),
    remove: () => job.remove(),
    retry: (state?: JobRetryStatus) => job.retry(state),
    getState: async () => (await job.getState()) as JobState,
    updateData: (data: Record<string, any>) => job.updateData(data),
    changeDelay: (delay: number) => job.changeDelay(delay),
    changePriority: (opts: { priority?: number; lifo?: boolean }) => job.changePriority(opts),
    getDependenciesCount: (opts) => job.getDependenciesCount(opts),
    toJSON: (): QueueJobJson => ({
      id: job.id,
      name: job.name,
      data: job.data,
      opts: job.opts,
      progress: job.progress,
      attemptsMade: job.attemptsMade,
      attemptsStarted: job.attemptsStarted,
      stalledCounter: job.stalledCounter,
      priority: job.priority,
      delay: job.delay,
      timestamp: job.timestamp,
      processedOn: job.processedOn ?? null,
      finishedOn: job.finishedOn ?? null,
      processedBy: job.processedBy ?? null,
      failedReason: job.failedReason ?? '',
      stacktrace: job.stacktrace ?? null,
      returnvalue: job.returnvalue,
      parentKey: job.parentKey,
    }),
  };
}

export class DocketAdapter extends BaseAdapter {
  constructor(
    private readonly queue: Queue,
    options: Partial<QueueAdapterOptions & { allowCompletedRetries: boolean }> = {},
  ) {
    super('bullmq', { prefix: '', ...options });
  }

  getName(): string {
    return `${this.prefix}${this.queue.name}`;
  }

  async getRedisInfo(): Promise<string | null> {
    return null;
  }

  getStatuses(): Status[] {
    return ['latest', ...JOB_STATUSES];
  }

  getJobStatuses(): JobStatus[] {
    return [...JOB_STATUSES];
  }

  async getJobCounts(): Promise<JobCounts> {
    return (await this.queue.getJobCounts(...JOB_STATUSES)) as JobCounts;
  }

  async getJobs(jobStatuses: JobStatus[], start?: number, end?: number): Promise<QueueJob[]> {
    const jobs = await this.queue.getJobs(jobStatuses, start, end, false);
    return jobs.map(boardJob);
  }

  async getJob(id: string): Promise<QueueJob | undefined> {
    const job = await this.queue.getJob(id);
    return job ? boardJob(job) : undefined;
  }

  async getJobLogs(id: string): Promise<string[]> {
    return (await this.queue.getJobLogs(id)).logs;
  }

  async addJob(name: string, data: any, options: QueueJobOptions): Promise<QueueJob> {
    return boardJob(await this.queue.add(name, data, options as Record<string, unknown>));
  }

  async clean(jobStatus: JobCleanStatus, graceTimeMs: number): Promise<void> {
    await this.queue.clean(graceTimeMs, Number.MAX_SAFE_INTEGER, jobStatus);
  }

  isPaused(): Promise<boolean> {
    return this.queue.isPaused();
  }

  pause(): Promise<void> {
    return this.queue.pause();
  }

  resume(): Promise<void> {
    return this.queue.resume();
  }

  empty(): Promise<void> {
    return this.queue.drain();
  }

  obliterate(opts: { force?: boolean } = {}): Promise<void> {
    return this.queue.obliterate({ force: opts.force ?? false });
  }

  promoteAll(): Promise<void> {
    return this.queue.promoteJobs();
  }

  /** Docket keeps no per-minute metrics: an empty series. */
  async getMetrics(_type: 'completed' | 'failed'): Promise<QueueMetrics> {
    return { meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [], count: 0 };
  }

  async getJobSchedulers() {
    return [];
  }

  async getJobSchedulersCount(): Promise<number> {
    return 0;
  }

  async removeJobScheduler(): Promise<boolean> {
    return false;
  }

  async updateJobScheduler(): Promise<'not-found'> {
    return 'not-found';
  }

  async runJobSchedulerNow(): Promise<'not-found'> {
    return 'not-found';
  }

  async getGlobalConcurrency(): Promise<number | null> {
    return null;
  }

  async setGlobalConcurrency(): Promise<void> {}

  override async getActiveRateLimitTtl(): Promise<number> {
    return Math.max(0, await this.queue.getRateLimitTtl());
  }
}
