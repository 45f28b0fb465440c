/**
 * The events of Queue, Worker, QueueEvents and FlowProducer, with BullMQ's names and listener
 * types: `worker.on('completed', (job, result) => …)` is typed as in BullMQ, and Nest's
 * `@OnWorkerEvent(…)` / `@OnQueueEvent(…)` take `keyof WorkerListener` / `keyof QueueEventsListener`.
 * Each class declares typed `on`/`once`/`off`/`emit` overloads in an interface of its own name
 * (merged into the class); any other event name still type-checks with EventEmitter's types
 * (Docket emits a few of its own, e.g. `<event>:<jobId>` on QueueEvents).
 */
import type { Job, JobProgress } from './job.js';

/** Emitted when the connection of a Redis store closes (BullMQ's ioredis event). */
export interface IoredisListener {
  'ioredis:close': () => void;
}

/** Events of a `Queue` (this process's actions on it). */
export interface QueueListener<JobBase extends Job = Job> extends IoredisListener {
  cleaned: (jobs: string[], type: string) => void;
  error: (err: Error) => void;
  paused: () => void;
  progress: (jobId: string, progress: JobProgress) => void;
  removed: (jobId: string) => void;
  resumed: () => void;
  waiting: (job: JobBase) => void;
}

/** Events of a `Worker` (the jobs it runs). */
export interface WorkerListener<
  DataType = any,
  ResultType = any,
  NameType extends string = string,
  ProgressType extends JobProgress = JobProgress,
> extends IoredisListener {
  active: (job: Job<DataType, ResultType, NameType>, prev: string) => void;
  closed: () => void;
  closing: (msg: string) => void;
  completed: (job: Job<DataType, ResultType, NameType>, result: ResultType, prev: string) => void;
  drained: () => void;
  error: (failedReason: Error) => void;
  failed: (job: Job<DataType, ResultType, NameType> | undefined, error: Error, prev: string) => void;
  paused: () => void;
  progress: (job: Job<DataType, ResultType, NameType>, progress: ProgressType) => void;
  ready: () => void;
  resumed: () => void;
  stalled: (jobId: string, prev: string) => void;
  lockRenewalFailed: (jobIds: string[]) => void;
  locksRenewed: (data: { count: number; jobIds: string[] }) => void;
}

/** Events of `QueueEvents`: every process's events on a queue, as `(args, eventId)`. */
export interface QueueEventsListener<ReturnType = any> extends IoredisListener {
  active: (args: { jobId: string; prev?: string }, id: string) => void;
  added: (args: { jobId: string; name: string }, id: string) => void;
  cleaned: (args: { count: string }, id: string) => void;
  completed: (args: { jobId: string; returnvalue: ReturnType; prev?: string }, id: string) => void;
  deduplicated: (args: { jobId: string; deduplicationId: string; deduplicatedJobId: string }, id: string) => void;
  delayed: (args: { jobId: string; delay: number }, id: string) => void;
  drained: (id: string) => void;
  duplicated: (args: { jobId: string }, id: string) => void;
  error: (args: Error) => void;
  failed: (args: { jobId: string; failedReason: string; prev?: string }, id: string) => void;
  paused: (args: object, id: string) => void;
  progress: (args: { jobId: string; data: JobProgress }, id: string) => void;
  removed: (args: { jobId: string; prev: string }, id: string) => void;
  resumed: (args: object, id: string) => void;
  'retries-exhausted': (args: { jobId: string; attemptsMade: string }, id: string) => void;
  stalled: (args: { jobId: string }, id: string) => void;
  waiting: (args: { jobId: string; prev?: string }, id: string) => void;
  'waiting-children': (args: { jobId: string }, id: string) => void;
}

/** Events of a `FlowProducer`. */
export interface FlowProducerListener extends IoredisListener {
  error: (failedReason: Error) => void;
}

/** Any listener: event names outside a listener interface keep EventEmitter's types. */
export type AnyListener = (...args: any[]) => void;

/** The parameters of a listener type. */
export type ListenerArgs<T> = T extends (...args: infer A) => unknown ? A : never;
