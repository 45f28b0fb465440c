import { failedChildError, isUnrecoverable, moveError, specialErrorKind } from '../errors.js';
import { jobMetricView } from '../job/moves.js';
import { isStopped } from '../job/stopped.js';
import type { Job } from '../job.js';
import { toRetention } from '../options/retention.js';
import type { JobRecord } from '../store/store.js';
import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import { type Span, SpanKind } from '../telemetry/interface.js';
import { recordJobMetric } from '../telemetry/trace.js';
import { CompletionBatcher } from './completion-batcher.js';
import { retryOnConnectionLoss } from './connection-retry.js';
import type { FetchLoop } from './fetch-loop.js';
import type { WorkerHost } from './host.js';
import { toError } from './processor-errors.js';

/** A completing move's outcome: the store's code, the next job it fetched, and an error other than a refusal. */
interface Completion {
  code: number;
  next?: JobRecord;
  finishedOn?: number;
  rateLimitTtl: number;
  thrown?: Error;
}

/**
 * The end of a job's run in a worker: completes or fails it (or leaves it where a special error
 * already moved it), emits the worker's event, and returns the next job when the finishing step
 * fetched one. `span`: the job's `process` span, when the worker has the `telemetry` option.
 */
export class JobFinisher {
  private readonly completions: CompletionBatcher;

  constructor(
    private readonly host: WorkerHost,
    private readonly fetcher: FetchLoop,
  ) {
    this.completions = new CompletionBatcher(
      host.store,
      host.qualifiedName,
      (n) => host.fetchRequest(n),
      () =>
        host.store.kind === 'redis'
          ? { maxBatch: Math.max(1, Math.ceil(host.opts.concurrency / 2)), maxInFlight: 2 }
          : { maxBatch: 1000, maxInFlight: 1 },
    );
  }

  /** A finishing move, retried while only the connection fails (connection-retry.ts). */
  private retrying<T>(move: () => Promise<T>): Promise<T> {
    const delay = Math.min(this.host.opts.runRetryDelay ?? 1000, 1000);
    return retryOnConnectionLoss(move, delay, () => this.host.isClosed());
  }

  async completed(
    job: Job,
    token: string,
    value: unknown,
    wantNext: boolean,
    span?: Span,
    viaJob = false,
  ): Promise<JobRecord | undefined> {
    let returnvalue: string;
    try {
      returnvalue = JSON.stringify(value ?? null) ?? 'null';
    } catch (err) {
      return this.failed(
        job,
        token,
        new Error(`returnvalue cannot be stored as JSON: ${(err as Error).message}`),
        wantNext,
        span,
      );
    }
    const item = {
      id: job.id!,
      token,
      returnvalue,
      retention: toRetention(job.opts.removeOnComplete ?? this.host.opts.removeOnComplete),
      metrics: this.host.metrics(),
    };
    const { code, next, finishedOn, rateLimitTtl, thrown }: Completion = viaJob
      ? await this.completeViaJob(job, token, value, wantNext)
      : await this.host.trace(SpanKind.INTERNAL, 'complete', (scope) => {
          scope.span?.setAttributes({ [A.JobName]: job.name, [A.JobId]: job.id });
          return this.retrying(() => this.completions.complete(item, wantNext));
        });
    if (!next && rateLimitTtl > 0) {
      // The fetch that came with the completion met a rate limit: no marker will wake the fetch loop
      // for the jobs still waiting, so cut its wait short and let it sleep out the limit instead.
      this.fetcher.limitUntil = Math.max(this.fetcher.limitUntil, Date.now() + rateLimitTtl);
      this.fetcher.wake.abort();
    }
    if (thrown) {
      // As BullMQ's processJob: the error is emitted, then the job fails with it.
      this.host.emitError(thrown);
      return this.failed(job, token, thrown, wantNext, span);
    }
    if (code === -4) return this.failed(job, token, moveError(code, job.id!, 'moveToFinished'), wantNext, span);
    if (code === -9) return this.failed(job, token, failedChildError(job.id!, 'moveToFinished'), wantNext, span);
    if (code !== 0) {
      this.host.emitError(moveError(code, job.id!, 'moveToFinished'));
    } else {
      if (!viaJob) {
        // (job.moveToCompleted sets these itself.)
        job.returnvalue = value;
        job.finishedOn = finishedOn;
        job.attemptsMade += 1;
        recordJobMetric(this.host.telemetry, jobMetricView(job), 'completed');
      }
      this.host.emit('completed', job, value, 'active');
      span?.addEvent('job completed', { [A.JobResult]: returnvalue });
      span?.setAttributes({ [A.JobAttemptsMade]: job.attemptsMade });
    }
    if (next) this.fetcher.drained = false;
    return next;
  }

  /**
   * The completion as BullMQ's handleCompleted makes it, through `job.moveToCompleted` (code that
   * wraps it sees the move) with `token`, which then holds the next job; a refused move's code is
   * handled as the batched completion's is, and any other error fails the job.
   */
  private async completeViaJob(job: Job, token: string, value: unknown, wantNext: boolean): Promise<Completion> {
    let code = 0;
    let next: JobRecord | undefined;
    let thrown: Error | undefined;
    try {
      const moved = await this.retrying(() => job.moveToCompleted(value, token, wantNext));
      next = moved?.[0] as JobRecord | undefined;
    } catch (err) {
      // A refused move (JobMoveError, failedChildError) carries its code.
      const refused = (err as { code?: unknown }).code;
      if (typeof refused === 'number') code = refused;
      else thrown = toError(err);
    }
    return { code, next, finishedOn: job.finishedOn, rateLimitTtl: 0, thrown };
  }

  async failed(job: Job, token: string, err: Error, wantNext: boolean, span?: Span): Promise<JobRecord | undefined> {
    const { store, qualifiedName } = this.host;
    const kind = specialErrorKind(err);
    if (kind === 'delayed' || kind === 'waiting' || kind === 'waiting-children') return undefined;
    if (kind === 'rate-limit') {
      const code = await store.moveToWait(qualifiedName, job.id!, token, Date.now());
      // BullMQ names the move moveJobFromActiveToWait ("Missing key for job 1. moveJobFromActiveToWait").
      if (code !== 0) this.host.emitError(moveError(code, job.id!, 'moveJobFromActiveToWait'));
      const ttl = await store.getRateLimitTtl(qualifiedName, Date.now());
      this.fetcher.limitUntil = Math.max(this.fetcher.limitUntil, Date.now() + ttl);
      return undefined;
    }
    const fetchNext = wantNext && !isUnrecoverable(err);
    let next: unknown[] | undefined;
    try {
      // Through job.moveToFailed, as BullMQ's worker does (code that wraps it sees the move); an
      // attempt the worker stopped itself (a timeout) goes round it, as its Job refuses the processor's calls.
      next = await this.retrying(() =>
        isStopped(job) ? job.failAttempt(err, token, fetchNext) : job.moveToFailed(err, token, fetchNext),
      );
    } catch (moveErr) {
      this.host.emitError(moveErr);
      return undefined;
    }
    this.host.emit('failed', job, err, 'active');
    span?.addEvent('job failed', { [A.JobFailedReason]: err.message });
    span?.setAttributes({ [A.JobAttemptsMade]: job.attemptsMade });
    return next && next.length > 0 ? (next[0] as JobRecord) : undefined;
  }
}
