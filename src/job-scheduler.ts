import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from './errors.js';
import { Job, type JobOwner } from './job.js';
import type { JobsOptions } from './options/job-options.js';
import type { NewJob, SchedulerRecord } from './store/store.js';

/** BullMQ's RepeatOptions as accepted by `upsertJobScheduler`. */
export interface RepeatOptions {
  /** Cron pattern (with optional seconds field), evaluated in `tz`. */
  pattern?: string;
  /** Interval in ms. */
  every?: number;
  tz?: string;
  startDate?: Date | string | number;
  endDate?: Date | string | number;
  /** How many jobs the scheduler produces at most. */
  limit?: number;
  /** Run the first iteration at once. */
  immediately?: boolean;
  /** ms added to each `every` slot. */
  offset?: number;
}

export interface JobSchedulerTemplate<T = any, N extends string = string> {
  name?: N;
  data?: T;
  opts?: Omit<JobsOptions, 'jobId' | 'repeat' | 'delay' | 'deduplication'>;
}

/** What `getJobScheduler` returns, as BullMQ's JobSchedulerJson. */
export interface JobSchedulerJson<T = any> {
  key: string;
  name: string;
  id?: string;
  pattern?: string;
  every?: number;
  tz?: string;
  startDate?: number;
  endDate?: number;
  limit?: number;
  offset?: number;
  next?: number;
  iterationCount?: number;
  template?: { data?: T; opts?: JobsOptions };
}

const toMillis = (d: Date | string | number | undefined) => (d === undefined ? undefined : new Date(d).getTime());

/**
 * The next run at or after `millis` for a schedule (BullMQ's default repeat strategy): `every`
 * slots are aligned to multiples of `every` (plus `offset`); patterns are cron expressions in `tz`.
 */
export function getNextMillis(millis: number, opts: RepeatOptions): number | undefined {
  const start = toMillis(opts.startDate);
  const from = start !== undefined && start > millis ? start : millis;
  let next: number;
  if (opts.every !== undefined) {
    next = Math.floor(from / opts.every) * opts.every + opts.every + (opts.offset ?? 0);
    if (start !== undefined && start > millis) next = start;
  } else if (opts.pattern !== undefined) {
    next = CronExpressionParser.parse(opts.pattern, { currentDate: new Date(from), tz: opts.tz })
      .next()
      .getTime();
  } else {
    return undefined;
  }
  const end = toMillis(opts.endDate);
  return end !== undefined && next > end ? undefined : next;
}

function validateRepeat(id: string, opts: RepeatOptions): void {
  if (typeof id !== 'string' || id.length === 0)
    throw new ValidationError('job scheduler id must be a non-empty string');
  if ((opts.every === undefined) === (opts.pattern === undefined)) {
    throw new ValidationError('repeatOpts needs exactly one of `every` or `pattern`');
  }
  if (opts.every !== undefined && (!Number.isInteger(opts.every) || opts.every <= 0)) {
    throw new ValidationError(`repeatOpts.every must be a positive integer (got ${String(opts.every)})`);
  }
  if (opts.pattern !== undefined) {
    try {
      CronExpressionParser.parse(opts.pattern, { tz: opts.tz });
    } catch (err) {
      throw new ValidationError(
        `repeatOpts.pattern "${opts.pattern}" is not a valid cron expression: ${(err as Error).message}`,
      );
    }
  }
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) {
    throw new ValidationError(`repeatOpts.limit must be a positive integer (got ${String(opts.limit)})`);
  }
}

/** Creates schedulers and, when a scheduler's job starts, the scheduler's next job. */
export class JobScheduler {
  constructor(private readonly owner: JobOwner) {}

  private jobFor(
    schedulerId: string,
    template: JobSchedulerTemplate,
    millis: number,
    now: number,
  ): NewJob & { id: string } {
    const opts: JobsOptions = { ...template.opts, repeatJobKey: schedulerId, prevMillis: millis };
    const job = Job.toNewJob(template.name ?? schedulerId, template.data ?? {}, {
      ...opts,
      timestamp: now,
      delay: Math.max(0, millis - now),
    });
    return { ...job, id: `repeat:${schedulerId}:${millis}` };
  }

  async upsert(id: string, repeat: RepeatOptions, template: JobSchedulerTemplate = {}): Promise<Job | undefined> {
    validateRepeat(id, repeat);
    const now = Date.now();
    const first = repeat.immediately ? now : getNextMillis(now, repeat);
    const record: SchedulerRecord = {
      id,
      repeat: JSON.stringify({ ...repeat, startDate: toMillis(repeat.startDate), endDate: toMillis(repeat.endDate) }),
      template: JSON.stringify({ name: template.name ?? id, data: template.data ?? {}, opts: template.opts ?? {} }),
      iterationCount: 0,
    };
    const job = first === undefined ? undefined : this.jobFor(id, template, first, now);
    await this.owner.waitUntilReady();
    const jobId = await this.owner.store.upsertScheduler(this.owner.qualifiedName, record, job);
    return jobId ? Job.fromId(this.owner, jobId) : undefined;
  }

  /** Called when a scheduler's job starts: adds the following run (once, whoever calls). */
  async scheduleNext(job: Job): Promise<void> {
    const schedulerId = job.opts.repeatJobKey as string | undefined;
    const prevMillis = job.opts.prevMillis as number | undefined;
    if (!schedulerId || prevMillis === undefined) return;
    const qn = this.owner.qualifiedName;
    const record = await this.owner.store.getScheduler(qn, schedulerId);
    if (!record || record.next !== prevMillis) return;
    const repeat = JSON.parse(record.repeat) as RepeatOptions;
    const template = JSON.parse(record.template) as JobSchedulerTemplate;
    const limitReached = repeat.limit !== undefined && record.iterationCount + 1 >= repeat.limit;
    const next = limitReached ? undefined : getNextMillis(Math.max(prevMillis, Date.now()), repeat);
    const nextJob = next === undefined ? undefined : this.jobFor(schedulerId, template, next, Date.now());
    await this.owner.store.scheduleNext(qn, schedulerId, prevMillis, nextJob);
  }

  static toJson(record: SchedulerRecord): JobSchedulerJson {
    const repeat = JSON.parse(record.repeat) as RepeatOptions & { startDate?: number; endDate?: number };
    const template = JSON.parse(record.template) as { name: string; data?: unknown; opts?: JobsOptions };
    const out: JobSchedulerJson = {
      key: record.id,
      id: record.id,
      name: template.name,
      iterationCount: record.iterationCount,
    };
    for (const k of ['pattern', 'every', 'tz', 'startDate', 'endDate', 'limit', 'offset'] as const) {
      if (repeat[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = repeat[k];
    }
    if (record.next !== undefined) out.next = record.next;
    out.template = { data: template.data, opts: template.opts };
    return out;
  }
}
