import type { FetchRequest } from '../store/store.js';
import type { BatchWait } from './batch-wait.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/**
 * A worker's fetch for `n` jobs: each taken under a fresh lock token `<worker id>:<counter>`, with
 * the worker's lock duration, name, limiter, group and (with `batch`) batch rules.
 */
export class FetchRequests {
  private counter = 0;

  constructor(
    private readonly workerId: string,
    private readonly opts: ResolvedWorkerOptions,
    private readonly batchWait: () => BatchWait | undefined,
  ) {}

  next(n: number): FetchRequest {
    return {
      tokens: Array.from({ length: n }, () => `${this.workerId}:${++this.counter}`),
      lockDuration: this.opts.lockDuration,
      now: Date.now(),
      processedBy: this.opts.name,
      limiter: this.opts.limiter,
      group: this.opts.group,
      batch: this.batchWait()?.rules(),
    };
  }
}
