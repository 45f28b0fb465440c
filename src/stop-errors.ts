/**
 * Why a worker stopped an attempt before its processor settled (issue 21). Both are the abort
 * `reason` of the processor's signal and the error the attempt ends with; code matches on `name`
 * (it survives a sandbox's serialisation), so the names are stable.
 */

/** The attempt ran past its `timeout` (job option) or the worker's `timeout` / `ttl`: retried per `attempts`. */
export class TimeoutError extends Error {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`Job ${jobId} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/** The job was cancelled with `queue.cancelJob(id, reason)`: failed for good, never retried. */
export class JobCancelledError extends Error {
  constructor(
    readonly jobId: string,
    /** The job's failedReason: `cancelledReason(reason)` of the reason given to cancelJob. */
    message = cancelledReason(),
  ) {
    super(message);
    this.name = 'JobCancelledError';
  }
}

/** The failedReason a cancelled job gets: says it was cancelled, then the caller's reason. */
export function cancelledReason(reason?: string): string {
  return reason ? `Job cancelled: ${reason}` : 'Job cancelled';
}

/** Whether `err` stops an attempt for good at once (a sandbox child is then killed without grace). */
export function isStopError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    err instanceof TimeoutError ||
    err instanceof JobCancelledError ||
    name === 'TimeoutError' ||
    name === 'JobCancelledError'
  );
}
