import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNotConnectionError } from '../errors.js';
import type { FetchResult, JobRecord } from '../store/store.js';
import { BatchWait } from './batch-wait.js';
import type { WorkerHost } from './host.js';

/**
 * The most jobs one fetch asks for. A request carries a lock token per job it may take, so asking for
 * every free slot made each fetch of an idle worker cost O(concurrency): at concurrency 1e6, a
 * million tokens built, sent and decoded per fetch (~150 MB of heap, 600 MB RSS, ~20 % of a core and
 * ~0.5 s of Redis CPU per idle second). Busy workers are unaffected: jobs beyond one batch are
 * fetched by the next turn of the loop, and most come with completions anyway (completion-batcher.ts).
 */
export const MAX_FETCH = 1000;

/**
 * What a fetch asks for after one that found fewer jobs than it asked for: an idle worker's fetches
 * then cost what they cost at concurrency 10 (with MAX_FETCH tokens each, ~25 % more CPU in the
 * worker-idle-cost test). A fetch that fills its request is followed at once by a full one.
 */
export const IDLE_FETCH = 10;

/** The idle wait on a store with `wakesForAllWork` (a timer's longest, ~24.8 days). */
const IDLE_WAIT_MS = 2 ** 31 - 1;

/**
 * The worker's wait → fetch cycle: fills free slots with jobs, and between fetches waits for work
 * (woken by the store), for a slot, or for a rate limit to lift.
 */
export class FetchLoop {
  /** Aborted to cut a wait short (pause, close); replaced once it fired. */
  wake = wakeController();
  /** Set once 'drained' was emitted, until a job is fetched again. */
  drained = false;
  /** A RateLimitError stops this worker from fetching until then. */
  limitUntil = 0;
  /** Whether the last fetch got all the jobs it asked for (so more may be waiting). */
  private lastFilled = false;
  private slotWaiters: (() => void)[] = [];
  /** With the `batch` option's minSize: the wait for enough jobs (batch timeout). */
  readonly batchWait?: BatchWait;

  constructor(private readonly host: WorkerHost) {
    if (host.opts.batch) this.batchWait = new BatchWait(host.opts.batch);
  }

  /** Fetches until the worker closes or pauses (BullMQ's main loop ends on pause, too). */
  async run(): Promise<void> {
    const host = this.host;
    while (!host.isClosed() && !host.isPaused()) {
      if (host.runningCount() >= host.opts.concurrency) {
        await this.slotFreed();
        continue;
      }
      let res: FetchResult;
      try {
        const limited = this.limitUntil - Date.now();
        if (limited > 0) {
          // As BullMQ: fetch again after at most maximumRateLimitDelay, then wait for what is left.
          await this.idle(this.rateLimitDelay(limited));
          this.limitUntil = 0;
          continue;
        }
        // A batch is one fetch of its size (one store call), whatever the concurrency.
        const ask =
          host.opts.batch?.size ??
          Math.min(this.lastFilled ? MAX_FETCH : IDLE_FETCH, host.opts.concurrency - host.runningCount());
        res = await host.store.fetchNext(host.qualifiedName, host.fetchRequest(ask));
        this.lastFilled = res.jobs.length === ask;
        this.batchWait?.fetched(res.jobs.length);
      } catch (err) {
        if (host.isClosed()) break;
        // As BullMQ's loop: a lost connection is retried quietly (the client's own 'error' events say
        // why); any other failure is the worker's error.
        if (isNotConnectionError(err)) host.emitError(err);
        await this.idle(Math.min(host.opts.runRetryDelay ?? 1000, 1000));
        continue;
      }
      if (res.jobs.length > 0) {
        this.drained = false;
        host.startJobs(res.jobs);
        continue;
      }
      if (res.rateLimitTtl > 0) {
        await this.idle(this.rateLimitDelay(res.rateLimitTtl));
        continue;
      }
      if (!this.drained && !res.paused) {
        this.drained = true;
        host.emit('drained');
      }
      // A store that wakes its waiters for all new work (PostgreSQL while it LISTENs) is not read
      // again every drainDelay: an idle worker then queries nothing but its stalled check and heartbeat.
      let wait = host.store.wakesForAllWork ? IDLE_WAIT_MS : host.opts.drainDelay * 1000;
      if (res.nextDelayedAt !== undefined) wait = Math.max(0, Math.min(wait, res.nextDelayedAt - Date.now()));
      // A batch waiting for minSize jobs fetches again when its timeout lets a short batch go.
      const bound = this.batchWait?.waitBound();
      if (bound !== undefined) wait = Math.min(wait, bound);
      try {
        if (wait > 0) await host.store.waitForWork(host.qualifiedName, wait, this.wake.signal);
      } catch (err) {
        if (host.isClosed()) break;
        if (isNotConnectionError(err)) host.emitError(err);
        await this.idle(1000);
      }
      if (this.wake.signal.aborted) this.wake = wakeController();
    }
  }

  /**
   * One job for `token` (manual processing: Worker.getNextJob), or undefined when none is ready.
   * With `block`, waits up to `drainDelay` seconds for one.
   */
  async fetchOne(token: string, block: boolean): Promise<JobRecord | undefined> {
    const host = this.host;
    const deadline = Date.now() + host.opts.drainDelay * 1000;
    for (;;) {
      if (host.isClosed() || host.isPaused()) return undefined;
      const res = await host.store.fetchNext(host.qualifiedName, { ...host.fetchRequest(1), tokens: [token] });
      if (res.jobs[0]) return res.jobs[0];
      const left = deadline - Date.now();
      if (!block || res.paused || left <= 0) return undefined;
      let wait = left;
      if (res.rateLimitTtl > 0) wait = Math.min(wait, res.rateLimitTtl);
      if (res.nextDelayedAt !== undefined) wait = Math.max(1, Math.min(wait, res.nextDelayedAt - Date.now()));
      await host.store.waitForWork(host.qualifiedName, wait, this.wake.signal);
      if (this.wake.signal.aborted && !host.isClosed()) this.wake = wakeController();
    }
  }

  /** A rate limit's wait, at most maximumRateLimitDelay: each fetch promotes delayed jobs that came due. */
  private rateLimitDelay(ttl: number): number {
    return Math.min(ttl, this.host.opts.maximumRateLimitDelay ?? 30_000);
  }

  async idle(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
    if (this.wake.signal.aborted) this.wake = wakeController();
  }

  slotFreed(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  freeSlot(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * The wake-up signal is shared by every wait of the worker: the fetch loop's and each blocking
 * getNextJob's, any number at once, so Node's listener-leak warning (at 11) does not apply.
 */
function wakeController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
