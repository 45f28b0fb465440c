import type { BackoffOptions } from './job-options.js';

/** A custom strategy: `settings.backoffStrategy(attemptsMade, type, err, job)`; -1 means do not retry. */
export type BackoffStrategy = (
  attemptsMade: number,
  type?: string,
  err?: Error,
  job?: unknown,
) => number | Promise<number>;

/**
 * ms to wait before the next try after `attemptsMade` finished attempts, BullMQ's formulas:
 * fixed = delay, exponential = 2^(attemptsMade-1) * delay, jitter takes a random part off.
 */
export async function backoffDelay(
  backoff: BackoffOptions | undefined,
  attemptsMade: number,
  err: Error,
  job: unknown,
  custom?: BackoffStrategy,
): Promise<number> {
  if (backoff === undefined) return 0;
  const opts = typeof backoff === 'number' ? { type: 'fixed', delay: backoff } : backoff;
  const delay = opts.delay ?? 0;
  let ms: number;
  if (opts.type === 'fixed') ms = delay;
  else if (opts.type === 'exponential') ms = 2 ** (attemptsMade - 1) * delay;
  else if (custom) return custom(attemptsMade, opts.type, err, job);
  else throw new Error(`Unknown backoff strategy ${opts.type}. Set it in the worker's settings.backoffStrategy`);
  if (opts.jitter) ms = Math.floor(ms * (1 - opts.jitter) + Math.random() * ms * opts.jitter);
  return ms;
}
