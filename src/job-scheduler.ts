import { EventEmitter } from 'node:events';
import { Job, type JobOwner } from './job.js';
import {
  defaultRepeatStrategy,
  type JobSchedulerJobOptions,
  type RepeatOptions,
  type RepeatStrategy,
  toMillis,
  validateRepeat,
} from './job-scheduler/repeat.js';
import type { JobsOptions } from './options/job-options.js';
import { toJson } from './options/validate.js';
import type { NewJob, SchedulerRecord } from './store/store.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';
import { withProducerMetadata } from './telemetry/trace.js';

export {
  type AdvancedRepeatOptions,
  defaultRepeatStrategy,
  getNextMillis,
  type JobSchedulerJobOptions,
  type RepeatOptions,
  type RepeatStrategy,
} from './job-scheduler/repeat.js';

/** The options a scheduler's jobs are made with (BullMQ's JobSchedulerTemplateOptions). */
export type JobSchedulerTemplateOptions = Omit<JobsOptions, 'jobId' | 'repeat' | 'delay' | 'deduplication'>;

export interface JobSchedulerTemplate<T = any, N extends string = string> {
  name?: N;
  data?: T;
  opts?: JobSchedulerTemplateOptions;
}

/** What `getJobScheduler` returns: BullMQ's JobSchedulerJson, field for field. */
export interface JobSchedulerJson<T = any> {
  key: string;
  name: string;
  pattern?: string;
  every?: number;
  tz?: string;
  startDate?: number;
  endDate?: number;
  limit?: number;
  offset?: number;
  /** The current iteration's time: its job is `repeat:<key>:<next>`. */
  next?: number;
  /** Iterations produced so far, the first counting as 1. */
  iterationCount?: number;
  template?: { data?: T; opts?: JobsOptions };
}

/** Fields of `opts` that belong to one iteration, not to the scheduler's jobs in general. */
function templateOf(opts: JobSchedulerJobOptions): JobsOptions {
  const { delay: _d, prevMillis: _p, timestamp: _t, jobId: _j, repeat: _r, ...rest } = opts;
  return rest;
}

/** A job's options as stored, with `repeat` (which `Job.toNewJob` refuses from users) put back. */
function toSchedulerJob(name: string, data: unknown, opts: JobSchedulerJobOptions): NewJob {
  const { repeat, ...plain } = opts;
  const job = Job.toNewJob(name, data, plain);
  return { ...job, opts: JSON.stringify({ ...JSON.parse(job.opts), repeat }) };
}

const COLLISION = 'Cannot create job scheduler iteration - job ID already exists. addJobScheduler';
const BUSY = 'Cannot create job scheduler iteration - current and next time slots already have jobs. addJobScheduler';

/**
 * Job schedulers of one queue (BullMQ's JobScheduler): `Queue` creates them, and a `Worker` adds
 * each scheduler's next job when it takes the current one. Reached as `queue.jobScheduler` and
 * `worker.jobScheduler`; its 'error' events are re-emitted by its owner.
 *
 * Clocks (as BullMQ): every schedule computation uses this process's `Date.now()`, which is also
 * the clock that makes delayed jobs due (workers fetch with their own `now`). So a scheduler's jobs
 * run on the producer's and workers' clock, and tests that fake `Date` drive them.
 */
export class JobScheduler extends EventEmitter {
  constructor(
    private readonly owner: JobOwner,
    private readonly repeatStrategy: RepeatStrategy = defaultRepeatStrategy,
  ) {
    super();
  }

  waitUntilReady(): Promise<void> {
    return this.owner.waitUntilReady();
  }

  /**
   * Places a scheduler's iteration. With `override` (Queue.upsertJobScheduler) it creates or
   * replaces the scheduler; without (a worker that took `producerId`), it adds the iteration after
   * `producerId` when that is still the scheduler's current one. Resolves with the job, or undefined
   * when the schedule is over (limit, endDate) or another worker added it.
   */
  async upsertJobScheduler<T = any, R = any, N extends string = string>(
    jobSchedulerId: string,
    repeatOpts: Omit<RepeatOptions, 'key' | 'prevMillis'>,
    jobName: N,
    jobData: T,
    opts: JobSchedulerJobOptions,
    { override, producerId }: { override: boolean; producerId?: string },
  ): Promise<Job<T, R, N> | undefined> {
    validateRepeat(jobSchedulerId, repeatOpts, opts);
    if (override && repeatOpts.immediately && repeatOpts.every) {
      console.warn(
        "Using option immediately with every does not affect the job's schedule. Job will run immediately anyway.",
      );
    }
    const { every, pattern, limit } = repeatOpts;
    const iterationCount = repeatOpts.count ? repeatOpts.count + 1 : 1;
    if (limit !== undefined && iterationCount > limit) return undefined;
    const clock = Date.now();
    const endDate = toMillis(repeatOpts.endDate);
    if (endDate && clock > endDate) return undefined;
    const now = Math.max(opts.prevMillis || 0, clock);

    let nextMillis: number | undefined;
    if (pattern) {
      nextMillis = await this.repeatStrategy(now, repeatOpts, jobName);
      if (nextMillis === undefined || Number.isNaN(nextMillis)) return undefined;
      nextMillis = Math.max(nextMillis, now);
    }
    const { immediately: _i, ...kept } = repeatOpts;
    const offset = every && repeatOpts.offset ? repeatOpts.offset : undefined;
    const startDate = toMillis(repeatOpts.startDate);
    const template = templateOf(opts);
    // BullMQ's producer span for an iteration: `add <queue>.<job name>`, its context carried by the job.
    return this.owner.trace(SpanKind.PRODUCER, 'add', `${this.owner.name}.${jobName}`, async ({ span, metadata }) => {
      const jobOpts: JobSchedulerJobOptions = withProducerMetadata(
        {
          ...template,
          repeat: { ...kept, offset, count: iterationCount, startDate, endDate },
          timestamp: clock,
          repeatJobKey: jobSchedulerId,
        },
        metadata(),
      );
      const job = toSchedulerJob(jobName, jobData, jobOpts);
      await this.owner.waitUntilReady();
      const store = this.owner.store;
      const queue = this.owner.qualifiedName;
      const iteration = { now: clock, nextMillis, job };
      let added: Job<T, R, N> | undefined;
      if (!override) {
        const jobId = await store.scheduleNext(queue, jobSchedulerId, producerId ?? '', iteration);
        added = jobId ? new Job<T, R, N>(this.owner, jobName, jobData, jobOpts, jobId) : undefined;
      } else {
        const record: SchedulerRecord = {
          id: jobSchedulerId,
          repeat: JSON.stringify({ every, pattern, tz: repeatOpts.tz, startDate, endDate, limit }),
          name: jobName,
          data: toJson(jobData, 'data'),
          opts: toJson(template, 'opts'),
          iterationCount: 1,
          offset,
        };
        const res = await store.upsertScheduler(queue, record, iteration);
        if ('refused' in res) throw new Error(res.refused === 'collision' ? COLLISION : BUSY);
        const delay = res.delay;
        const stored = { ...jobOpts, delay, prevMillis: clock + delay };
        added = new Job<T, R, N>(this.owner, jobName, jobData, stored, res.jobId);
      }
      if (added) span?.setAttributes({ [A.JobSchedulerId]: jobSchedulerId, [A.JobId]: added.id });
      return added;
    });
  }

  /** True when `id` names a job scheduler of this queue. */
  async isJobScheduler(id: string): Promise<boolean> {
    await this.owner.waitUntilReady();
    return (await this.owner.store.getScheduler(this.owner.qualifiedName, id)) !== undefined;
  }

  async getScheduler<D = any>(id: string): Promise<JobSchedulerJson<D> | undefined> {
    await this.owner.waitUntilReady();
    const record = await this.owner.store.getScheduler(this.owner.qualifiedName, id);
    return record ? JobScheduler.toJson(record) : undefined;
  }

  async getJobSchedulers<D = any>(start = 0, end = -1, asc = false): Promise<JobSchedulerJson<D>[]> {
    await this.owner.waitUntilReady();
    const records = await this.owner.store.getSchedulers(this.owner.qualifiedName, start, end, asc);
    return records.map((r) => JobScheduler.toJson(r));
  }

  async getSchedulersCount(): Promise<number> {
    await this.owner.waitUntilReady();
    return this.owner.store.countSchedulers(this.owner.qualifiedName);
  }

  async removeJobScheduler(jobSchedulerId: string): Promise<boolean> {
    await this.owner.waitUntilReady();
    return this.owner.store.removeScheduler(this.owner.qualifiedName, jobSchedulerId);
  }

  /** Nothing of its own to close: it uses its owner's store. */
  async close(): Promise<void> {}

  static toJson(record: SchedulerRecord): JobSchedulerJson {
    const repeat = JSON.parse(record.repeat) as Partial<JobSchedulerJson>;
    const out: JobSchedulerJson = { key: record.id, name: record.name, next: record.next };
    if (record.iterationCount) out.iterationCount = record.iterationCount;
    for (const k of ['limit', 'startDate', 'endDate', 'tz', 'pattern', 'every'] as const) {
      if (repeat[k]) (out as unknown as Record<string, unknown>)[k] = repeat[k];
    }
    if (record.offset !== undefined) out.offset = record.offset;
    const hasData = record.data !== '{}';
    const hasOpts = record.opts !== '{}';
    if (hasData || hasOpts) {
      out.template = {};
      if (hasData) out.template.data = JSON.parse(record.data);
      if (hasOpts) out.template.opts = JSON.parse(record.opts);
    }
    return out;
  }
}
