import { failedChildError, moveError } from '../errors.js';
import { applyFailure, failCommand, failItem, jobMetricView } from '../job/moves.js';
import type { Job, JobSettings } from '../job.js';
import { toRetention } from '../options/retention.js';
import type { CompleteItem, FailItem, JobRecord, MoveResult } from '../store/store.js';
import { recordJobMetric } from '../telemetry/trace.js';
import type { FetchLoop } from './fetch-loop.js';
import type { WorkerHost } from './host.js';

/** A job of a batch and its lock token. */
export interface BatchedJob {
  job: Job;
  token: string;
}

/**
 * The end of a batch (BullMQ Pro's batches): its failed jobs in one `fail` call (each retried per its
 * own attempts and backoff), then its completed ones in one `complete` call, which also fetches the
 * next batch when `wantNext` (the last call of the two fetches it). A batch that completes whole is
 * therefore one store call, its next batch included. Returns the next batch's jobs ([] for none).
 */
export class BatchFinisher {
  constructor(
    private readonly host: WorkerHost,
    private readonly fetcher: FetchLoop,
    private readonly settings: () => JobSettings,
  ) {}

  async finish(
    completed: BatchedJob[],
    failed: (BatchedJob & { err: Error })[],
    value: unknown,
    wantNext: boolean,
  ): Promise<JobRecord[]> {
    let returnvalue = 'null';
    if (completed.length > 0) {
      try {
        returnvalue = JSON.stringify(value ?? null) ?? 'null';
      } catch (err) {
        const cause = new Error(`returnvalue cannot be stored as JSON: ${(err as Error).message}`);
        failed = failed.concat(completed.map((c) => ({ ...c, err: cause })));
        completed = [];
      }
    }
    let next: JobRecord[] = [];
    if (failed.length > 0) {
      next = await this.fail(failed, wantNext && completed.length === 0);
    }
    if (completed.length > 0) {
      const refused = await this.complete(completed, value, returnvalue, wantNext, (jobs) => {
        next = jobs;
      });
      // A job with pending children (or a failed one under failParentOnFailure) cannot complete: it
      // fails with BullMQ's error for that, as a single job's completion would.
      if (refused.length > 0) await this.fail(refused, false);
    }
    if (next.length > 0) this.fetcher.drained = false;
    return next;
  }

  private async fail(failed: (BatchedJob & { err: Error })[], wantNext: boolean): Promise<JobRecord[]> {
    const { store, qualifiedName } = this.host;
    const settings = this.settings();
    const items: FailItem[] = [];
    for (const { job, token, err } of failed) {
      items.push(failItem(job, settings, err, await job.retryDelayFor(err), token));
    }
    // An immediate retry fetches nothing in the same step: the fetch would take back the jobs it gave up.
    const fetches = wantNext && items.every((item) => item.retryDelay !== 0);
    const now = Date.now();
    const res = await store.fail(
      qualifiedName,
      items,
      now,
      fetches ? this.host.fetchRequest(this.batchSize()) : undefined,
    );
    for (const [i, { job }] of failed.entries()) {
      const code = res.codes[i];
      if (code === 0) applyFailure(job, items[i], now);
      else await this.lockLost(job, moveError(code, job.id!, failCommand(items[i].retryDelay)));
    }
    return this.nextOf(res);
  }

  /** Completes `completed`; returns those the store refused for their children, to fail them. */
  private async complete(
    completed: BatchedJob[],
    value: unknown,
    returnvalue: string,
    wantNext: boolean,
    setNext: (jobs: JobRecord[]) => void,
  ): Promise<(BatchedJob & { err: Error })[]> {
    const { store, qualifiedName } = this.host;
    const settings = this.settings();
    const items: CompleteItem[] = completed.map(({ job, token }) => ({
      id: job.id!,
      token,
      returnvalue,
      retention: toRetention(job.opts.removeOnComplete ?? settings.removeOnComplete),
      metrics: settings.metrics,
    }));
    const now = Date.now();
    const res = await store.complete(
      qualifiedName,
      items,
      now,
      wantNext ? this.host.fetchRequest(this.batchSize()) : undefined,
    );
    setNext(this.nextOf(res));
    const refused: (BatchedJob & { err: Error })[] = [];
    for (const [i, c] of completed.entries()) {
      const code = res.codes[i];
      if (code === 0) {
        c.job.returnvalue = value;
        c.job.finishedOn = now;
        c.job.attemptsMade += 1;
        recordJobMetric(this.host.telemetry, jobMetricView(c.job), 'completed');
      } else if (code === -4 || code === -9) {
        const id = c.job.id!;
        refused.push({
          ...c,
          err: code === -9 ? failedChildError(id, 'moveToFinished') : moveError(code, id, 'moveToFinished'),
        });
      } else {
        await this.lockLost(c.job, moveError(code, c.job.id!, 'moveToFinished'));
      }
    }
    return refused;
  }

  /**
   * A move the store refused for a lost lock: an error, unless Queue.cancelJob failed the job (its
   * notice may come after the batch ended; the batch runner leaves out the jobs it heard of).
   */
  private async lockLost(job: Job, err: Error): Promise<void> {
    const { store, qualifiedName } = this.host;
    if ((await store.getState(qualifiedName, job.id!).catch(() => 'unknown')) === 'failed') return;
    this.host.emitError(err);
  }

  /** The next batch a move fetched; a rate limit it met cuts the fetch loop's wait short, as finishing.ts does. */
  private nextOf(res: MoveResult): JobRecord[] {
    const jobs = res.next?.jobs ?? [];
    if (res.next) this.fetcher.batchWait?.fetched(jobs.length);
    const ttl = res.next?.rateLimitTtl ?? 0;
    if (jobs.length === 0 && ttl > 0) {
      this.fetcher.limitUntil = Math.max(this.fetcher.limitUntil, Date.now() + ttl);
      this.fetcher.wake.abort();
    }
    return jobs;
  }

  private batchSize(): number {
    return this.host.opts.batch?.size ?? 1;
  }
}
