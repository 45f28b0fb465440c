import type { BatchFetch } from '../store/store.js';
import type { BatchOptions } from './worker-options.js';

/**
 * BullMQ Pro's `minSize` and `timeout` for a worker's batches (issue 23): what each batch fetch asks
 * the store for (store/types.ts BatchFetch), and how long the fetch loop may wait for more jobs.
 * The timeout's clock starts when the worker begins to wait for a batch (the first fetch after the
 * previous batch that took nothing); once it ran out, fetches take whatever is ready, at least one
 * job, until a batch is taken and the next wait begins.
 */
export class BatchWait {
  /** When the wait for the current batch began (undefined: not waiting). */
  private since?: number;
  /** Whether the last fetch's rules asked for minSize jobs (the timeout had not run out then). */
  private askedMin = false;

  constructor(private readonly batch: BatchOptions) {}

  /** The store's rules for the next batch fetch, or undefined when it is a plain fetch. */
  rules(now = Date.now()): BatchFetch | undefined {
    const { groupAffinity } = this.batch;
    const minJobs = this.timedOut(now) ? undefined : this.minSize();
    this.askedMin = minJobs !== undefined;
    if (minJobs === undefined && !groupAffinity) return undefined;
    return { ...(groupAffinity && { groupAffinity }), ...(minJobs !== undefined && { minJobs }) };
  }

  /** A batch fetch took `got` jobs. */
  fetched(got: number, now = Date.now()): void {
    if (got > 0) this.since = undefined;
    else this.since ??= now;
  }

  /** How long (ms) the fetch loop may wait before the timeout lets a short batch go; undefined: no bound. */
  waitBound(now = Date.now()): number | undefined {
    const { timeout } = this.batch;
    // Once timed out, the fetches ask for no minimum: the wait is any worker's, for any job.
    if (this.minSize() === undefined || timeout === undefined || this.since === undefined) return undefined;
    // Run out since a fetch that still asked for minSize (a timer may fire a ms before Date.now()
    // says it is due): fetch again at once, without the minimum. Once a fetch asked without it, the
    // wait is any worker's, for any job.
    if (this.timedOut(now)) return this.askedMin ? 0 : undefined;
    return Math.max(0, this.since + timeout - now);
  }

  private minSize(): number | undefined {
    const { minSize } = this.batch;
    return minSize !== undefined && minSize > 1 ? minSize : undefined;
  }

  private timedOut(now: number): boolean {
    const { timeout } = this.batch;
    return timeout !== undefined && this.since !== undefined && now - this.since >= timeout;
  }
}
