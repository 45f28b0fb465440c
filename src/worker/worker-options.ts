import { refuseBackendFactory } from '../queue-base.js';
import type { WorkerOptions } from '../worker.js';

/** Rejects bad options before the worker opens its store. */
export function checkedOptions(opts: WorkerOptions, backendFactory: unknown): WorkerOptions {
  refuseBackendFactory(backendFactory);
  if (opts.concurrency !== undefined) validateConcurrency(opts.concurrency);
  for (const key of ['lockDuration', 'stalledInterval', 'drainDelay'] as const) {
    const v = opts[key];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0)))
      throw new TypeError(`${key} must be a positive number (got ${String(v)})`);
  }
  return opts;
}

export function validateConcurrency(value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`concurrency must be an integer >= 1 (got ${String(value)})`);
  }
}
