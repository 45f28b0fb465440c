import { setImmediate as nextTurn } from 'node:timers/promises';
import { markStopped } from '../job/stopped.js';
import { Job, type JobOwner } from '../job.js';
import { JobCancelledError, TimeoutError } from '../stop-errors.js';
import type { CancelNotice, JobRecord } from '../store/store.js';
import type { Span } from '../telemetry/interface.js';
import { type AttemptOutcome, runAttempt } from './attempt.js';
import type { FetchLoop } from './fetch-loop.js';
import type { JobFinisher } from './finishing.js';
import type { WorkerHost } from './host.js';
import type { LockRenewer } from './lock-renewer.js';
import type { WorkerSpans } from './spans.js';

/** A running job of this worker; `controller` only when the processor can see the signal. */
export interface RunningJob {
  job: Job;
  token: string;
  controller?: AbortController;
  /** Ends the attempt at once (timeout, cancel), whatever the processor does; set while it runs. */
  stop?: (err: Error) => void;
  /** Why the attempt was stopped, once it was. */
  stopped?: Error;
}

/** What the runner needs from its Worker besides the host (handed over as functions, not the Worker). */
export interface RunnerParts {
  owner: JobOwner;
  host: WorkerHost;
  processor: (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;
  /** A processor declaring fewer than three parameters never sees the signal: no controller per job. */
  wantsSignal: boolean;
  maxStartedAttempts?: number;
  telemetry: boolean;
  locks: LockRenewer;
  fetcher: FetchLoop;
  finisher: JobFinisher;
  spans: WorkerSpans;
  /** The job's start: scheduler iteration, then 'active'; false when it must not run. */
  begin(job: Job): Promise<boolean>;
  skipLockRenewal: boolean;
  /** The attempt's timeout in ms (0: none): job `timeout`, else the worker's `ttl` / `timeout`. */
  timeoutOf(job: Job): number;
}

/**
 * Runs fetched jobs in the worker's slots: each job's processor once, then its finishing step, and
 * the next job that step fetched, until none comes back.
 */
export class JobRunner {
  /** Running jobs by id. */
  readonly active = new Map<string, RunningJob>();
  /** Set while jobs run: the store's cancel notices (Store.watchCancels) reach them. */
  private unwatch?: () => void;

  constructor(private readonly parts: RunnerParts) {}

  /**
   * Stops a running attempt now (issue 21): aborts its signal with `err`, marks its Job object so
   * the processor's later calls are refused (job/stopped.ts), and lets the runner move on without
   * waiting for the processor; what the processor does later is ignored. False when not running.
   */
  stop(jobId: string, err: Error, token?: string): boolean {
    const running = this.active.get(jobId);
    if (!running || running.stopped || (token !== undefined && running.token !== token)) return false;
    // Also before the processor started (a cancel heard while the job was being begun): attempt() then skips it.
    running.stopped = err;
    markStopped(running.job);
    running.controller?.abort(err);
    running.stop?.(err);
    return true;
  }

  /** A cancel from Queue.cancelJob (any process): the store failed the job already. */
  private onCancel(notice: CancelNotice): void {
    this.stop(notice.id, new JobCancelledError(notice.id, notice.failedReason), notice.token);
  }

  /**
   * A cancel this worker did not hear (a lost notice): at a lock renewal that found a job's lock
   * gone, a job the store shows `failed` was failed by someone else (Queue.cancelJob), so its
   * attempt is stopped. Lost locks of jobs in other states keep BullMQ's behaviour (the processor runs on).
   */
  async checkLost(ids: string[]): Promise<void> {
    const host = this.parts.host;
    for (const id of ids) {
      const running = this.active.get(id);
      if (!running) continue;
      const record = await host.store.getJob(host.qualifiedName, id);
      const state = record ? await host.store.getState(host.qualifiedName, id) : 'unknown';
      if (state === 'failed' && record)
        this.stop(id, new JobCancelledError(id, record.failedReason ?? undefined), running.token);
    }
  }

  private track(running: RunningJob): void {
    this.active.set(running.job.id!, running);
    if (!this.unwatch) {
      const host = this.parts.host;
      this.unwatch = host.store.watchCancels(host.qualifiedName, (notice) => this.onCancel(notice));
    }
  }

  private untrack(jobId: string): void {
    this.active.delete(jobId);
    if (this.active.size === 0 && this.unwatch) {
      this.unwatch();
      this.unwatch = undefined;
    }
  }

  start(record: JobRecord): void {
    const run = async () => {
      // The fetched job waits one event-loop turn before it starts: a reply that arrived in the same
      // read as the fetch's (the job's own add, on a shared connection or a busy machine) resumes its
      // caller first, so code after `await queue.add()` runs before the processor, as when the fetch
      // takes a round trip of its own. The job counts as running (cancellable, locked) meanwhile.
      let next: JobRecord | undefined = await this.runOne(record, true);
      while (next) next = await this.runOne(next, false);
    };
    void run().finally(() => this.parts.fetcher.freeSlot());
  }

  /** Runs one fetched job to its end; returns the next job when the finishing step fetched one. */
  private runOne(record: JobRecord, afterTurn: boolean): Promise<JobRecord | undefined> {
    const job = Job.fromJSON(this.parts.owner, record);
    const begin = async () => {
      if (afterTurn) await nextTurn();
      return this.parts.begin(job);
    };
    return this.run(job, record.token!, begin);
  }

  /**
   * BullMQ's `worker.processJob`: runs a job its caller took (getNextJob began it already) as a
   * fetched job runs, counted among this worker's running jobs while it runs (its lock renewed, its
   * signal cancellable), and asks `fetchNext` (BullMQ's fetchNextCallback) once the processor is
   * done. Returns the next job when the finishing step fetched one.
   */
  processJob(job: Job, token: string, fetchNext: () => boolean): Promise<JobRecord | undefined> {
    return this.run(job, token, async () => true, fetchNext).finally(() => this.parts.fetcher.freeSlot());
  }

  /**
   * Runs `job` held by `token`: `begin` (false: it must not run), then one attempt and its finishing
   * step. Errors are emitted, not thrown. `fetchNext` marks a job run through processJob.
   */
  private async run(
    job: Job,
    token: string,
    begin: () => Promise<boolean>,
    fetchNext?: () => boolean,
  ): Promise<JobRecord | undefined> {
    const p = this.parts;
    const controller = p.wantsSignal ? new AbortController() : undefined;
    const running: RunningJob = { job, token, controller };
    this.track(running);
    if (!p.skipLockRenewal) p.locks.track(job.id!, token);
    try {
      if (!(await begin())) return undefined;
      return await p.spans.process(job, (span) => this.attempt(running, span, fetchNext));
    } catch (err) {
      p.host.emitError(err);
      return undefined;
    } finally {
      p.locks.untrack(job.id!);
      this.untrack(job.id!);
    }
  }

  /**
   * Runs the processor once for `job` and finishes it (completed, failed or retried). A timeout or a
   * cancel ends the wait for the processor early: a timed-out attempt fails with its TimeoutError
   * (retried per attempts/backoff, the lock taken away by the failing move); a cancelled one was
   * failed by the store already, so only the worker's `failed` event remains.
   */
  private async attempt(
    running: RunningJob,
    span: Span | undefined,
    fetchNext?: () => boolean,
  ): Promise<JobRecord | undefined> {
    const p = this.parts;
    const { job, token, controller } = running;
    const timeoutMs = p.timeoutOf(job);
    const timer =
      timeoutMs > 0 ? setTimeout(() => this.stop(job.id!, new TimeoutError(job.id!, timeoutMs)), timeoutMs) : undefined;
    // One promise settled by the processor or by stop(), whichever comes first.
    const outcome = await new Promise<AttemptOutcome<unknown>>((resolve) => {
      if (running.stopped) return resolve({ ok: false, err: running.stopped });
      running.stop = (err) => resolve({ ok: false, err });
      void runAttempt(job, p.maxStartedAttempts, () => p.processor(job, token, controller?.signal), !p.telemetry).then(
        resolve,
      );
    });
    clearTimeout(timer);
    running.stop = undefined;
    p.locks.untrack(job.id!);
    const host = p.host;
    if (running.stopped instanceof JobCancelledError) {
      job.failedReason = running.stopped.message;
      job.finishedOn = Date.now();
      job.attemptsMade += 1;
      host.emit('failed', job, running.stopped, 'active');
      return undefined;
    }
    // processJob's caller decides (asked first, as BullMQ calls fetchNextCallback at every finish);
    // the worker's own slots fetch the next job while the worker is not over its concurrency.
    const asked = fetchNext ? fetchNext() : this.active.size <= host.opts.concurrency;
    const wantNext = asked && !host.isClosed() && !host.isPaused() && p.fetcher.limitUntil <= Date.now();
    // processJob completes through job.moveToCompleted with its caller's token, as BullMQ's
    // handleCompleted: the next job it fetches is held by that token (the batched completion
    // hands out the worker's own tokens).
    const viaJob = fetchNext !== undefined;
    if (outcome.ok) return await p.finisher.completed(job, token, outcome.value, wantNext, span, viaJob);
    return await p.finisher.failed(job, token, outcome.err, wantNext, span);
  }
}
