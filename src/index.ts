export {
  createPostgresBackend,
  createRedisBackend,
  type DocketBackend,
  getDefaultBackendFactory,
  type PostgresBackendOptions,
  setDefaultBackendFactory,
} from './backend.js';
export {
  CONNECTION_CLOSED_ERROR_MSG,
  ConnectionClosedError,
  ConnectionError,
  DelayedError,
  GroupMaxSizeExceededError,
  isNotConnectionError,
  JobMoveError,
  RateLimitError,
  UnrecoverableError,
  UnsupportedServerError,
  ValidationError,
  WaitingChildrenError,
  WaitingError,
} from './errors.js';
export { type FlowJob, type FlowOpts, FlowProducer, type JobNode, type NodeOpts } from './flow-producer.js';
export type { StepChild } from './job/steps.js';
export { Job, Job as JobPro, type JobJson, type JobProgress } from './job.js';
export {
  type AdvancedRepeatOptions,
  defaultRepeatStrategy,
  getNextMillis,
  JobScheduler,
  type JobSchedulerJobOptions,
  type JobSchedulerJson,
  type JobSchedulerTemplate,
  type JobSchedulerTemplateOptions,
  type RepeatOptions,
  type RepeatStrategy,
} from './job-scheduler.js';
export type {
  FlowProducerListener,
  IoredisListener,
  QueueEventsListener,
  QueueListener,
  WorkerListener,
} from './listeners.js';
export type { BackoffStrategy } from './options/backoff.js';
export type { BackoffOptions, BulkJobOptions, JobsOptions, KeepJobs, ParentOptions } from './options/job-options.js';
export { Queue, Queue as QueuePro, type QueueOptions } from './queue.js';
export type { QueueBaseOptions } from './queue-base.js';
export { QueueEvents, type QueueEventsOptions } from './queue-events.js';
export { QueueEventsProducer } from './queue-events-producer.js';
export { type Metrics, MetricsTime } from './queue-getters.js';
export type { GroupStatus, GroupSummary } from './queue-groups.js';
export type { RepeatableJob, RepeatableJobsOptions } from './queue-repeat.js';
export { JobCancelledError, TimeoutError } from './stop-errors.js';
export { type ConnectionOptions, createIORedisClient, type RedisClient } from './store/connect.js';
export { migratePostgres } from './store/postgres/migrate.js';
export type { PostgresOptions } from './store/postgres/postgres-options.js';
export type { SqliteOptions } from './store/sqlite/sqlite-options.js';
export type { JobState } from './store/store.js';
export { MetricNames, TelemetryAttributes } from './telemetry/attributes.js';
export {
  type Attributes,
  type AttributeValue,
  type ContextManager,
  type Counter,
  type Exception,
  type Gauge,
  type Histogram,
  type Meter,
  type MetricOptions,
  type Span,
  SpanKind,
  type SpanOptions,
  type Telemetry,
  type Time,
  type Tracer,
} from './telemetry/interface.js';
export { type BatchOptions, type Processor, Worker, Worker as WorkerPro, type WorkerOptions } from './worker.js';
