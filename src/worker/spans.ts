import type { Job } from '../job.js';
import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import { type Span, SpanKind, type Telemetry } from '../telemetry/interface.js';
import { detached, type SpanScope } from '../telemetry/trace.js';

/** What a worker's spans need from it. */
export interface SpanningWorker {
  readonly id: string;
  readonly name: string;
  readonly telemetry?: Telemetry;
  readonly opts: { name?: string };
  trace<T>(
    kind: SpanKind,
    operation: string,
    destination: string,
    fn: (scope: SpanScope) => Promise<T>,
    parentMetadata?: string,
  ): Promise<T>;
}

/**
 * A Worker's spans through its `telemetry` option, with BullMQ's names and attributes: `process
 * <queue>` around each job (a child of the producer's span), and `<operation> <queue>` around
 * getNextJob, pause, resume, close, rateLimit and the background steps (lock renewal, stalled check).
 * Without `telemetry` each is a plain call.
 */
export class WorkerSpans {
  constructor(private readonly worker: SpanningWorker) {}

  /** A span of the worker's own, with its id and name. */
  internal<T>(operation: string, fn: (span?: Span) => Promise<T>): Promise<T> {
    const w = this.worker;
    return w.trace(SpanKind.INTERNAL, operation, w.name, ({ span }) => {
      span?.setAttributes({ [A.WorkerId]: w.id, [A.WorkerName]: w.opts.name });
      return fn(span);
    });
  }

  /** As `internal`, for timers: outside whatever context happened to start them. */
  background<T>(operation: string, fn: (span?: Span) => Promise<T>): Promise<T> {
    return detached(this.worker.telemetry, () => this.internal(operation, fn));
  }

  /** The consumer span of one run of `job`; its end records when the attempt finished. */
  process<T>(job: Job, fn: (span?: Span) => Promise<T>): Promise<T> {
    const w = this.worker;
    const run = async ({ span }: SpanScope) => {
      span?.setAttributes({
        [A.WorkerId]: w.id,
        [A.WorkerName]: w.opts.name,
        [A.JobId]: job.id,
        [A.JobName]: job.name,
      });
      try {
        return await fn(span);
      } finally {
        span?.setAttributes({
          [A.JobAttemptFinishedTimestamp]: job.finishedOn || Date.now(),
          [A.JobProcessedTimestamp]: job.processedOn,
        });
      }
    };
    return w.trace(SpanKind.CONSUMER, 'process', w.name, run, job.opts.telemetry?.metadata);
  }

  /** BullMQ's span after a manual fetch, a child of the fetched job's producer. */
  getNextJob<J extends Job | undefined>(job: J, block: boolean): Promise<J> {
    const w = this.worker;
    const run = async ({ span }: SpanScope) => {
      span?.setAttributes({
        [A.WorkerId]: w.id,
        [A.QueueName]: w.name,
        [A.WorkerName]: w.opts.name,
        [A.WorkerOptions]: JSON.stringify({ block }),
        [A.JobId]: job?.id,
      });
      return job;
    };
    return w.trace(SpanKind.INTERNAL, 'getNextJob', w.name, run, job?.opts.telemetry?.metadata);
  }
}
