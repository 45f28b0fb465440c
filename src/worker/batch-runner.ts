import { setImmediate as nextTurn } from 'node:timers/promises';
import { UnrecoverableError } from '../errors.js';
import { beginBatch, endBatch, failureOf } from '../job/batch.js';
import { Job, type JobOwner } from '../job.js';
import type { JobScheduler } from '../job-scheduler.js';
import { JobCancelledError } from '../stop-errors.js';
import type { CancelNotice, JobRecord } from '../store/store.js';
import { runAttempt, scheduleNextIteration } from './attempt.js';
import type { BatchedJob, BatchFinisher } from './batch-finishing.js';
import type { FetchLoop } from './fetch-loop.js';
import type { WorkerHost } from './host.js';
import type { RunningJob } from './job-runner.js';
import type { LockRenewer } from './lock-renewer.js';
import type { WorkerSpans } from './spans.js';

/** What the batch runner needs from its Worker besides the host (as JobRunner's RunnerParts). */
export interface BatchParts {
  owner: JobOwner;
  host: WorkerHost;
  processor: (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;
  wantsSignal: boolean;
  maxStartedAttempts?: number;
  telemetry: boolean;
  locks: LockRenewer;
  fetcher: FetchLoop;
  finisher: BatchFinisher;
  spans: WorkerSpans;
  scheduler(): Promise<JobScheduler>;
  skipLockRenewal: boolean;
}

/** The wrapper job's name (BullMQ Pro wraps a batch in a dummy job; its name is not documented). */
export const BATCH_JOB_NAME = '__batch__';

/**
 * Runs a worker's batches (BullMQ Pro's worker option `batch`, issue 23): each batch in one slot, its
 * processor called once with a wrapper job whose `getBatch()` lists the batch's jobs. Every job keeps
 * its own lock (renewed with the others', in one call per renewal), attempts, backoff and stalled
 * recovery: the store sees the jobs, never the batch, so a worker that dies mid-batch leaves jobs
 * whose locks lapse and which the stalled check gives back, each once. The worker's events are the
 * batch's ('active', 'completed', 'failed' with the wrapper job); QueueEvents report each job.
 */
export class BatchRunner {
  /** Every job of the running batches, by id (cancelJob, idle checks). */
  readonly active = new Map<string, RunningJob>();
  /** Batches running now: each takes one of the worker's `concurrency` slots. */
  running = 0;
  private unwatch?: () => void;

  constructor(private readonly parts: BatchParts) {}

  start(records: JobRecord[]): void {
    this.running++;
    const run = async () => {
      let next = await this.runBatch(records, true);
      while (next.length > 0) next = await this.runBatch(next, false);
    };
    void run()
      .catch((err) => this.parts.host.emitError(err))
      .finally(() => {
        this.running--;
        this.parts.fetcher.freeSlot();
      });
  }

  /** Runs one batch to its end; returns the next batch when the finishing step fetched one. */
  private async runBatch(records: JobRecord[], afterTurn: boolean): Promise<JobRecord[]> {
    const p = this.parts;
    const controller = p.wantsSignal ? new AbortController() : undefined;
    const all: RunningJob[] = records.map((record) => ({
      job: Job.fromJSON(p.owner, record),
      token: record.token!,
      controller,
    }));
    for (const r of all) this.track(r);
    try {
      // As JobRunner: one event-loop turn first, so the code that added the jobs runs on before them.
      if (afterTurn) await nextTurn();
      const runnable: RunningJob[] = [];
      const failed: (BatchedJob & { err: Error })[] = [];
      for (const r of all) {
        // A scheduler's job adds its next iteration first; when that fails it is left to stall (JobRunner's rule).
        if (!(await scheduleNextIteration(r.job, p.scheduler, (err) => p.host.emitError(err)))) {
          this.untrack(r);
          continue;
        }
        const doomed = this.doomed(r.job);
        if (doomed) failed.push({ job: r.job, token: r.token, err: doomed });
        else runnable.push(r);
      }
      if (runnable.length === 0) return await p.finisher.finish([], failed, null, this.wantsNext());
      return await this.process(runnable, failed, controller);
    } catch (err) {
      p.host.emitError(err);
      return [];
    } finally {
      for (const r of all) this.untrack(r);
    }
  }

  /** BullMQ's reasons to fail a job without running it (as attempt.ts runAttempt). */
  private doomed(job: Job): Error | undefined {
    if (job.deferredFailure) return new UnrecoverableError(job.deferredFailure);
    const max = this.parts.maxStartedAttempts;
    if (max !== undefined && job.attemptsStarted > max) {
      return new UnrecoverableError('job started more than allowable limit');
    }
    return undefined;
  }

  private async process(
    runnable: RunningJob[],
    failed: (BatchedJob & { err: Error })[],
    controller: AbortController | undefined,
  ): Promise<JobRecord[]> {
    const p = this.parts;
    const first = runnable[0].job;
    // Custom job ids cannot hold ':', so the wrapper's id is never a stored job's.
    const wrapper = new Job(p.owner, BATCH_JOB_NAME, {}, {}, `batch:${first.id}`);
    wrapper.processedOn = first.processedOn;
    wrapper.processedBy = first.processedBy;
    const jobs = runnable.map((r) => r.job);
    beginBatch(wrapper, jobs);
    p.host.emit('active', wrapper, 'waiting');
    return p.spans.process(wrapper, async () => {
      const outcome = await runAttempt(
        wrapper,
        undefined,
        () => p.processor(wrapper, undefined, controller?.signal),
        !p.telemetry,
      );
      const completed: BatchedJob[] = [];
      for (const r of runnable) {
        // A job Queue.cancelJob failed meanwhile is done: the store refused to move it either way.
        if (r.stopped) continue;
        const err = outcome.ok ? failureOf(r.job) : outcome.err;
        if (err) failed.push({ job: r.job, token: r.token, err });
        else completed.push({ job: r.job, token: r.token });
      }
      endBatch(jobs);
      for (const r of runnable) p.locks.untrack(r.job.id!);
      const next = await p.finisher.finish(completed, failed, outcome.ok ? outcome.value : null, this.wantsNext());
      wrapper.finishedOn = Date.now();
      wrapper.attemptsMade = 1;
      if (outcome.ok) {
        wrapper.returnvalue = outcome.value;
        p.host.emit('completed', wrapper, outcome.value, 'active');
      } else {
        wrapper.failedReason = outcome.err.message;
        p.host.emit('failed', wrapper, outcome.err, 'active');
      }
      return next;
    });
  }

  /** Whether the batch's finishing step should fetch the next batch (JobRunner's rule, per batch). */
  private wantsNext(): boolean {
    const { host, fetcher } = this.parts;
    return (
      !host.isClosed() && !host.isPaused() && this.running <= host.opts.concurrency && fetcher.limitUntil <= Date.now()
    );
  }

  /** A cancel from Queue.cancelJob: the store failed the job and took its lock; the batch leaves it out. */
  private onCancel(notice: CancelNotice): void {
    const r = this.active.get(notice.id);
    if (r && r.token === notice.token) r.stopped = new JobCancelledError(notice.id, notice.failedReason);
  }

  private track(r: RunningJob): void {
    const p = this.parts;
    this.active.set(r.job.id!, r);
    if (!p.skipLockRenewal) p.locks.track(r.job.id!, r.token);
    if (!this.unwatch) {
      this.unwatch = p.host.store.watchCancels(p.host.qualifiedName, (notice) => this.onCancel(notice));
    }
  }

  private untrack(r: RunningJob): void {
    this.parts.locks.untrack(r.job.id!);
    if (this.active.get(r.job.id!) === r) this.active.delete(r.job.id!);
    if (this.active.size === 0 && this.unwatch) {
      this.unwatch();
      this.unwatch = undefined;
    }
  }
}
