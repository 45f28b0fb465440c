import { setImmediate as nextTurn } from 'node:timers/promises';
import { Job, type JobOwner } from '../job.js';
import type { JobRecord } from '../store/store.js';
import type { Span } from '../telemetry/interface.js';
import { runAttempt } from './attempt.js';
import type { FetchLoop } from './fetch-loop.js';
import type { JobFinisher } from './finishing.js';
import type { WorkerHost } from './host.js';
import type { LockRenewer } from './lock-renewer.js';
import type { WorkerSpans } from './spans.js';

/** A running job of this worker; `controller` only when the processor can see the signal. */
export interface RunningJob {
  job: Job;
  controller?: AbortController;
}

/** What the runner needs from its Worker besides the host (handed over as functions, not the Worker). */
export interface RunnerParts {
  owner: JobOwner;
  host: WorkerHost;
  processor: (job: Job, token: string, signal?: AbortSignal) => Promise<unknown>;
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
}

/**
 * Runs fetched jobs in the worker's slots: each job's processor once, then its finishing step, and
 * the next job that step fetched, until none comes back.
 */
export class JobRunner {
  /** Running jobs by id. */
  readonly active = new Map<string, RunningJob>();

  constructor(private readonly parts: RunnerParts) {}

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

  /** Runs one job to its end; returns the next job when the finishing step fetched one. */
  private async runOne(record: JobRecord, afterTurn: boolean): Promise<JobRecord | undefined> {
    const p = this.parts;
    const job = Job.fromJSON(p.owner, record);
    const token = record.token!;
    const controller = p.wantsSignal ? new AbortController() : undefined;
    this.active.set(job.id!, { job, controller });
    if (!p.skipLockRenewal) p.locks.track(job.id!, token);
    try {
      if (afterTurn) await nextTurn();
      if (!(await p.begin(job))) return undefined;
      return await p.spans.process(job, (span) => this.attempt(job, token, controller, span));
    } catch (err) {
      p.host.emitError(err);
      return undefined;
    } finally {
      p.locks.untrack(job.id!);
      this.active.delete(job.id!);
    }
  }

  /** Runs the processor once for `job` and finishes it (completed, failed or retried). */
  private async attempt(
    job: Job,
    token: string,
    controller: AbortController | undefined,
    span: Span | undefined,
  ): Promise<JobRecord | undefined> {
    const p = this.parts;
    const outcome = await runAttempt(
      job,
      p.maxStartedAttempts,
      () => p.processor(job, token, controller?.signal),
      !p.telemetry,
    );
    p.locks.untrack(job.id!);
    const host = p.host;
    const wantNext =
      !host.isClosed() &&
      !host.isPaused() &&
      this.active.size <= host.opts.concurrency &&
      p.fetcher.limitUntil <= Date.now();
    if (outcome.ok) return await p.finisher.completed(job, token, outcome.value, wantNext, span);
    return await p.finisher.failed(job, token, outcome.err, wantNext, span);
  }
}
