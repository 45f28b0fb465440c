import { UnrecoverableError } from '../errors.js';
import type { Job } from '../job.js';
import type { JobScheduler, JobSchedulerJobOptions } from '../job-scheduler.js';
import { traceProcess } from '../telemetry/tracing.js';
import { toError } from './processor-errors.js';

export type AttemptOutcome<R> = { ok: true; value: R } | { ok: false; err: Error };

/**
 * One attempt of a fetched job, decided as BullMQ decides it: a job carrying a deferred failure (it
 * stalled more than maxStalledCount, or a failParentOnFailure child failed while it was not waiting
 * for its children) or one started more than maxStartedAttempts fails without running; otherwise
 * the processor runs (in Docket's own `process` span with `ownTracing`: when the worker has no
 * `telemetry` option, whose spans the worker makes itself).
 */
export async function runAttempt<R>(
  job: Job,
  maxStartedAttempts: number | undefined,
  run: () => Promise<R>,
  ownTracing = true,
): Promise<AttemptOutcome<R>> {
  if (job.deferredFailure) return { ok: false, err: new UnrecoverableError(job.deferredFailure) };
  if (maxStartedAttempts !== undefined && job.attemptsStarted > maxStartedAttempts) {
    return { ok: false, err: new UnrecoverableError('job started more than allowable limit') };
  }
  try {
    return { ok: true, value: await (ownTracing ? traceProcess(job, run) : run()) };
  } catch (err) {
    return { ok: false, err: toError(err) };
  }
}

/**
 * A scheduler's job, once taken, adds the scheduler's next iteration (as BullMQ, before it runs).
 * When that fails the job is not run: an error is emitted and the job is left active, so its lock
 * lapses and the stalled check gives it back (scheduler jobs never fail for stalling). False then.
 */
export async function scheduleNextIteration(
  job: Job,
  scheduler: () => Promise<JobScheduler>,
  emitError: (err: unknown) => void,
): Promise<boolean> {
  const repeat = (job.opts as JobSchedulerJobOptions).repeat;
  if (!job.repeatJobKey || !repeat) return true;
  try {
    await (await scheduler()).upsertJobScheduler(job.repeatJobKey, repeat, job.name, job.data, job.opts, {
      override: false,
      producerId: job.id,
    });
    return true;
  } catch (err) {
    emitError(err);
    const message = err instanceof Error ? err.message : String(err);
    emitError(new Error(`Failed to add repeatable job for next iteration: ${message}`));
    return false;
  }
}
