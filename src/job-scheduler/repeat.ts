import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from '../errors.js';
import type { JobsOptions } from '../options/job-options.js';

/** BullMQ's RepeatOptions: how a job scheduler repeats. */
export interface RepeatOptions {
  /** Cron pattern (with an optional seconds field), evaluated in `tz`; or what a custom `repeatStrategy` reads. */
  pattern?: string;
  /** Interval in ms: the first job runs at once, each later one `every` ms after the previous. */
  every?: number;
  /** Time zone of `pattern`. */
  tz?: string;
  /** No job runs before it. */
  startDate?: Date | string | number;
  /** No job is scheduled after it; a past endDate is refused. */
  endDate?: Date | string | number;
  /** How many jobs the scheduler produces at most. */
  limit?: number;
  /** Run a `pattern` schedule's first job at once (an `every` schedule does anyway). */
  immediately?: boolean;
  /** `every` jobs run at multiples of `every` plus `offset` ms. */
  offset?: number;
  /** Set on scheduler-made jobs (`job.opts.repeat.count`): the job's iteration, from 1. */
  count?: number;
  /** BullMQ's `utc` flag for patterns, passed to the cron parser. */
  utc?: boolean;
  /** The time the iteration was computed from, passed to the repeat strategy. */
  prevMillis?: number;
  key?: string;
  jobId?: string;
}

/**
 * Computes the next time (ms) a `pattern` schedule runs after `millis`; undefined ends the schedule.
 * `Queue`/`Worker` take one as `settings.repeatStrategy` (BullMQ's), e.g. to read RRULE patterns.
 */
export type RepeatStrategy = (
  millis: number,
  opts: RepeatOptions,
  name?: string,
) => number | undefined | Promise<number | undefined>;

/** BullMQ's `settings` of a Queue (and part of a Worker's). */
export interface AdvancedRepeatOptions {
  repeatStrategy?: RepeatStrategy;
  /** Accepted for BullMQ compatibility; Docket's scheduler ids are used as given. */
  repeatKeyHashAlgorithm?: string;
}

/** The options of a scheduler-made job (BullMQ's JobSchedulerJobOptions). */
export type JobSchedulerJobOptions = JobsOptions & { repeat?: RepeatOptions; prevMillis?: number };

const time = (d: Date | string | number) => new Date(d).getTime();

function cronNext(millis: number, opts: RepeatOptions): number | undefined {
  const start = opts.startDate === undefined ? undefined : new Date(opts.startDate);
  const from = new Date(millis);
  const currentDate = start && start > from ? start : from;
  const interval = CronExpressionParser.parse(opts.pattern as string, { ...opts, currentDate } as never);
  try {
    return opts.immediately ? Date.now() : interval.next().getTime();
  } catch {
    return undefined; // no time left in the pattern's range (endDate)
  }
}

/** BullMQ's default repeat strategy: the pattern's next time after `millis` (or now with `immediately`). */
export const defaultRepeatStrategy: RepeatStrategy = (millis, opts) => cronNext(millis, opts);

/**
 * BullMQ's `getNextMillis` helper: for `every`, the multiple of `every` after `millis` (at `millis`'
 * own slot with `immediately`); for `pattern`, the cron pattern's next time.
 */
export function getNextMillis(millis: number, opts: RepeatOptions): number | undefined {
  if (opts.pattern && opts.every) {
    throw new ValidationError('Both .pattern and .every options are defined for this repeatable job');
  }
  if (opts.every) return Math.floor(millis / opts.every) * opts.every + (opts.immediately ? 0 : opts.every);
  return cronNext(millis, opts);
}

/** Refuses what BullMQ refuses, with its texts. */
export function validateRepeat(id: string, repeat: RepeatOptions, opts: Record<string, unknown>): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ValidationError('job scheduler id must be a non-empty string');
  }
  if (repeat.pattern && repeat.every) {
    throw new ValidationError('Both .pattern and .every options are defined for this repeatable job');
  }
  if (!repeat.pattern && !repeat.every) {
    throw new ValidationError('Either .pattern or .every options must be defined for this repeatable job');
  }
  if (repeat.immediately && repeat.startDate) {
    throw new ValidationError('Both .immediately and .startDate options are defined for this repeatable job');
  }
  if (Object.hasOwn(opts, 'debounce')) {
    throw new ValidationError('Debounce option has been removed. Use deduplication option instead');
  }
  if (repeat.every !== undefined && (!Number.isInteger(repeat.every) || repeat.every <= 0)) {
    throw new ValidationError(`repeatOpts.every must be a positive integer (got ${String(repeat.every)})`);
  }
}

/** A date option in ms (undefined stays undefined). */
export const toMillis = (d: Date | string | number | undefined) => (d ? time(d) : undefined);
