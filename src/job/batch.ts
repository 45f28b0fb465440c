import { ValidationError } from '../errors.js';
import { idOf, type JobFields } from './types.js';

// BullMQ Pro's batches (issue 23; docs/patterns/batches.md): a batch runs as one wrapper job whose
// getBatch() lists the batch's jobs; a job of a running batch can be failed alone with setAsFailed.
// Kept beside the Job objects (weak maps) rather than as fields, so a Job made for any other purpose
// carries nothing for them.

/** Wrapper job → the jobs of its batch. */
const batches = new WeakMap<object, readonly object[]>();
/** A job of a batch that is running → the error setAsFailed gave it (undefined: none yet). */
const running = new WeakMap<object, { err?: Error }>();

/** The jobs of the batch that `wrapper` runs; [] for a job that is no batch's wrapper. */
export function batchOf<J>(wrapper: object): J[] {
  return [...((batches.get(wrapper) ?? []) as J[])];
}

/** Makes `wrapper` the batch job of `jobs`, which count as running until `endBatch`. */
export function beginBatch(wrapper: object, jobs: readonly object[]): void {
  batches.set(wrapper, jobs);
  for (const job of jobs) running.set(job, {});
}

/** The batch's processor returned or threw: setAsFailed on its jobs is refused from now on. */
export function endBatch(jobs: readonly object[]): void {
  for (const job of jobs) running.delete(job);
}

/** job.setAsFailed: `job` will fail with `err` when its batch's processor returns (the others complete). */
export function markFailed(job: JobFields, err: unknown): void {
  const state = running.get(job);
  if (!state) {
    throw new ValidationError(
      `setAsFailed: job ${idOf(job)} of queue ${job.queue.name} is not in a running batch ` +
        '(call it on a job of job.getBatch() while the batch processor runs)',
    );
  }
  state.err = err instanceof Error ? err : new Error(String(err));
}

/** The error setAsFailed gave `job`, if any. */
export function failureOf(job: object): Error | undefined {
  return running.get(job)?.err;
}
