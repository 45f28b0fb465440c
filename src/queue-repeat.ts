import { createHash } from 'node:crypto';
import type { Job } from './job.js';
import type { AdvancedRepeatOptions, JobScheduler, RepeatOptions } from './job-scheduler.js';
import type { JobsOptions } from './options/job-options.js';
import { QueueCleanup } from './queue-cleanup.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';

/** `queue.add`'s options: BullMQ v5 also takes `repeat` there (a repeatable job). */
export type RepeatableJobsOptions = JobsOptions & { repeat?: RepeatOptions };

/** What `getRepeatableJobs` lists: BullMQ v5's RepeatableJob (`every` as text, as v5 reads it back from Redis). */
export interface RepeatableJob {
  key: string;
  name: string;
  /** Only v5's pre-hash keys carried it; Docket never writes those, so it is absent. */
  id?: string | null;
  endDate: number | null;
  tz: string | null;
  pattern: string | null;
  every?: string | null;
  next?: number;
}

/**
 * The text BullMQ v5 hashes into a repeatable job's key: `<name>:<jobId>:<endDate ms>:<tz>:<pattern or every>`,
 * each part empty when not given.
 */
export function repeatConcatOptions(name: string, repeat: RepeatOptions & { jobId?: string }): string {
  const endDate = repeat.endDate ? new Date(repeat.endDate).getTime() : '';
  const suffix = (repeat.pattern ? repeat.pattern : String(repeat.every)) || '';
  return `${name}:${repeat.jobId ?? ''}:${endDate}:${repeat.tz ?? ''}:${suffix}`;
}

/**
 * BullMQ v5's repeatable jobs (`add(name, data, { repeat })`, `getRepeatableJobs`, `removeRepeatable`,
 * `removeRepeatableByKey`), kept as late v5 kept them: as job schedulers. A repeatable job is the
 * scheduler whose id is its key: `repeat.key`, else the hash (`settings.repeatKeyHashAlgorithm`, md5 by
 * default) of `repeatConcatOptions`; its jobs are `repeat:<key>:<millis>`, as in v5. So the two APIs see
 * each other's entries, as they do in v5.
 */
export abstract class QueueRepeat<
  DataType = any,
  ResultType = any,
  NameType extends string = string,
> extends QueueCleanup<DataType, ResultType, NameType> {
  abstract readonly opts: { settings?: AdvancedRepeatOptions };
  abstract get jobScheduler(): Promise<JobScheduler>;

  /** The key of a repeatable job as BullMQ v5 forms it. */
  protected repeatKey(name: string, repeat: RepeatOptions & { jobId?: string }): string {
    if (repeat.key) return repeat.key;
    const algorithm = this.opts.settings?.repeatKeyHashAlgorithm ?? 'md5';
    return createHash(algorithm).update(repeatConcatOptions(name, repeat)).digest('hex');
  }

  /**
   * `add(name, data, { repeat })` (`opts` already merged over the queue's defaults): creates or updates
   * the repeatable job and resolves with its current job, or undefined when `limit` is already reached.
   * An `every` job without `immediately` runs first at the next multiple of `every` (plus `offset`), as
   * in v5; with `immediately` at once, then `every` ms later. `opts.jobId` is part of the key only.
   */
  protected async addRepeatable(
    name: NameType,
    data: DataType,
    opts: RepeatableJobsOptions,
  ): Promise<Job<DataType, ResultType, NameType>> {
    const given = { ...(opts.repeat as RepeatOptions & { cron?: string }) };
    // v5 still read the `cron` name of its first versions.
    if (given.cron !== undefined) given.pattern ??= given.cron;
    delete given.cron;
    if (given.endDate && +new Date(given.endDate) < Date.now()) {
      throw new Error('End date must be greater than current timestamp');
    }
    const { repeat: _r, jobId, delay: _d, ...template } = opts;
    const key = this.repeatKey(name, { ...given, jobId });
    const repeat: RepeatOptions = { ...given };
    if (jobId) repeat.jobId = jobId;
    // v5 lets `immediately` win over `startDate`; with `every` it is the scheduler's own first run.
    if (repeat.immediately) delete repeat.startDate;
    if (repeat.every && !repeat.pattern) {
      if (repeat.immediately) delete repeat.immediately;
      else if (repeat.startDate === undefined) {
        const every = repeat.every;
        repeat.startDate = Math.floor(Date.now() / every) * every + every + (repeat.offset ?? 0);
      }
    }
    const scheduler = await this.jobScheduler;
    const job = await scheduler.upsertJobScheduler<DataType, ResultType, NameType>(key, repeat, name, data, template, {
      override: true,
    });
    // As v5's typing: undefined (the limit reached already) is not in the type of `add`.
    return job as Job<DataType, ResultType, NameType>;
  }

  /**
   * The repeatable jobs (all job schedulers) by next run, newest first unless `asc`, sliced
   * [start, end] (end -1 = all), in BullMQ v5's shape.
   */
  async getRepeatableJobs(start = 0, end = -1, asc = false): Promise<RepeatableJob[]> {
    const schedulers = await (await this.jobScheduler).getJobSchedulers(start, end, asc);
    return schedulers.map((s) => ({
      key: s.key,
      name: s.name,
      endDate: s.endDate ?? null,
      tz: s.tz ?? null,
      pattern: s.pattern ?? null,
      every: s.every ? String(s.every) : null,
      next: s.next,
    }));
  }

  /**
   * Removes the repeatable job that `add(name, …, { repeat: repeatOpts, jobId })` made, and its next job
   * when delayed. True when it existed. As in v5, `repeatOpts.jobId` is not read: pass `jobId`.
   */
  async removeRepeatable(name: NameType, repeatOpts: RepeatOptions, jobId?: string): Promise<boolean> {
    return this.trace(SpanKind.INTERNAL, 'removeRepeatable', `${this.name}.${name}`, async ({ span }) => {
      span?.setAttributes({ [A.JobName]: name, ...(jobId ? { [A.JobId]: jobId } : {}) });
      const key = this.repeatKey(name, { ...repeatOpts, jobId });
      return (await this.jobScheduler).removeJobScheduler(key);
    });
  }

  /** Removes a repeatable job by the `key` that `getRepeatableJobs` (or `job.repeatJobKey`) gives. */
  async removeRepeatableByKey(key: string): Promise<boolean> {
    return this.trace(SpanKind.INTERNAL, 'removeRepeatableByKey', this.name, async ({ span }) => {
      span?.setAttributes({ [A.JobKey]: key });
      return (await this.jobScheduler).removeJobScheduler(key);
    });
  }
}
