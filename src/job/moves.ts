import { failedChildError, isUnrecoverable, moveError } from '../errors.js';
import { backoffDelay } from '../options/backoff.js';
import { toRetention } from '../options/retention.js';
import { toJson } from '../options/validate.js';
import type { FailItem, FetchRequest, JobRecord, MoveCode } from '../store/store.js';
import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import { SpanKind } from '../telemetry/interface.js';
import { recordJobMetric, type SpanScope } from '../telemetry/trace.js';
import { idOf, type JobFields, type JobJson, type JobSettings } from './types.js';

// The lock-checked moves of an active job (the worker's, or a manual processor's with its token).
// Each is one store transition; the job's fields change only after the store accepted the move.

function fetchRequest(settings: JobSettings, token: string): FetchRequest {
  return {
    tokens: [token],
    lockDuration: settings.lockDuration,
    now: Date.now(),
    processedBy: settings.processedBy,
    limiter: settings.limiter,
    group: settings.group,
  };
}

/** What a move that fetched returns, as BullMQ: `[jobData, jobId, limitUntil, delayUntil]`, or `[]` for none. */
export type NextJob = [JobJson, string, number, number] | [];

/** A job's move in BullMQ's span (`complete`, `fail`, `retry`, `delay` <queue>) with the job's name and id. */
function traced<T>(job: JobFields, operation: string, fn: (scope: SpanScope) => Promise<T>): Promise<T> {
  return job.queue.trace(SpanKind.INTERNAL, operation, job.queue.name, (scope) => {
    scope.span?.setAttributes({ [A.JobName]: job.name, [A.JobId]: job.id });
    return fn(scope);
  });
}

function nextOf(record: JobRecord | undefined): NextJob {
  return record ? [record as JobJson, record.id, 0, 0] : [];
}

/**
 * BullMQ's token '0' moves the job without checking its lock (it must still be active). The stores
 * take that as the empty token.
 */
function lockToken(token: string): string {
  return token === '0' ? '' : token;
}

/** Throws the BullMQ error for a refused move. */
export function checkMove(code: MoveCode, jobId: string, command: string): void {
  if (code !== 0) throw moveError(code, jobId, command);
}

export async function moveToCompleted<R>(
  job: JobFields<unknown, R>,
  settings: JobSettings,
  returnValue: R,
  token: string,
  fetchNext: boolean,
): Promise<NextJob> {
  return traced(job, 'complete', () => storeCompletion(job, settings, returnValue, token, fetchNext));
}

async function storeCompletion<R>(
  job: JobFields<unknown, R>,
  settings: JobSettings,
  returnValue: R,
  token: string,
  fetchNext: boolean,
): Promise<NextJob> {
  const jobId = idOf(job);
  const now = Date.now();
  const text = toJson(returnValue ?? null, 'returnvalue');
  const keep = job.opts.removeOnComplete ?? settings.removeOnComplete;
  const item = { id: jobId, token: lockToken(token), returnvalue: text, retention: toRetention(keep) };
  const res = await job.queue.store.complete(
    job.queue.qualifiedName,
    [item],
    now,
    fetchNext ? fetchRequest(settings, token) : undefined,
  );
  if (res.codes[0] === -9) throw failedChildError(jobId, 'moveToFinished');
  if (res.codes[0] !== 0) throw moveError(res.codes[0], jobId, 'moveToFinished');
  job.returnvalue = returnValue;
  job.finishedOn = now;
  job.attemptsMade += 1;
  recordJobMetric(job.queue.telemetry, jobMetricView(job), 'completed');
  return nextOf(res.next?.jobs[0]);
}

/**
 * Whether a failure with `err` should be retried, and after how long (BullMQ's rules: attempts and
 * backoff only; maxStartedAttempts is checked when a job starts, not here).
 */
export async function retryDelayFor(job: JobFields, settings: JobSettings, err: Error): Promise<number | null> {
  const attempts = job.opts.attempts ?? 1;
  const made = job.attemptsMade + 1;
  if (isUnrecoverable(err) || made >= attempts) return null;
  const delay = await backoffDelay(job.opts.backoff, made, err, job, settings.backoffStrategy);
  return delay < 0 ? null : delay;
}

/** Fails the job, or schedules its retry; `retryDelay` comes from the job's `retryDelayFor`. */
export async function moveToFailed(
  job: JobFields,
  settings: JobSettings,
  error: Error,
  retryDelay: number | null,
  token: string,
  fetchNext: boolean,
): Promise<NextJob> {
  // BullMQ names the span after the move: a retry later (delay), a retry now (retry), or fail.
  const operation = retryDelay === null ? 'fail' : retryDelay > 0 ? 'delay' : 'retry';
  return traced(job, operation, () => storeFailure(job, settings, error, retryDelay, token, fetchNext));
}

/**
 * The store item that fails `job` (held by `token`) with `error`, or retries it after `retryDelay`
 * (from `retryDelayFor`). Also used by the worker's batches (worker/batch-finishing.ts), which fail
 * many jobs in one store call.
 */
export function failItem(
  job: JobFields,
  settings: JobSettings,
  error: Error,
  retryDelay: number | null,
  token: string,
): FailItem {
  const stack = [...job.stacktrace, ...(error.stack ? [error.stack] : [])];
  const limit = job.opts.stackTraceLimit;
  const stacktrace = limit !== undefined ? (limit > 0 ? stack.slice(-limit) : []) : stack;
  const keep = job.opts.removeOnFail ?? settings.removeOnFail;
  return {
    id: idOf(job),
    token: lockToken(token),
    failedReason: error.message ?? String(error),
    stacktrace: JSON.stringify(stacktrace),
    retryDelay,
    retention: toRetention(keep),
    retriesExhausted: retryDelay === null && job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    metrics: settings.metrics,
  };
}

/** The job's fields after the store accepted `item` (failItem's) at `now`; records the job metric. */
export function applyFailure(job: JobFields, item: FailItem, now: number): void {
  job.failedReason = item.failedReason;
  job.stacktrace = JSON.parse(item.stacktrace) as string[];
  job.attemptsMade += 1;
  if (item.retryDelay === null) job.finishedOn = now;
  else if (item.retryDelay > 0) job.delay = item.retryDelay;
  const state = item.retryDelay === null ? 'failed' : item.retryDelay > 0 ? 'delayed' : 'retried';
  recordJobMetric(job.queue.telemetry, jobMetricView(job), state);
}

async function storeFailure(
  job: JobFields,
  settings: JobSettings,
  error: Error,
  retryDelay: number | null,
  token: string,
  fetchNext: boolean,
): Promise<NextJob> {
  const jobId = idOf(job);
  const now = Date.now();
  const item = failItem(job, settings, error, retryDelay, token);
  // An immediate retry fetches nothing in the same step (BullMQ's retryJob does not): it would take
  // back the job it just gave up.
  const fetches = fetchNext && retryDelay !== 0;
  const res = await job.queue.store.fail(
    job.queue.qualifiedName,
    [item],
    now,
    fetches ? fetchRequest(settings, token) : undefined,
  );
  if (res.codes[0] !== 0) throw moveError(res.codes[0], jobId, failCommand(retryDelay));
  applyFailure(job, item, now);
  return fetches ? nextOf(res.next?.jobs[0]) : [];
}

/** BullMQ names the command of the move it made: a retry later, a retry now, or the final failure. */
export function failCommand(retryDelay: number | null): string {
  return retryDelay === null ? 'moveToFinished' : retryDelay > 0 ? 'moveToDelayed' : 'retryJob';
}

export async function moveToDelayed(job: JobFields, timestamp: number, token?: string): Promise<void> {
  const jobId = idOf(job);
  const code = await job.queue.store.moveToDelayed(
    job.queue.qualifiedName,
    jobId,
    token === undefined ? undefined : lockToken(token),
    timestamp,
    Date.now(),
  );
  checkMove(code, jobId, 'moveToDelayed');
  job.delay = Math.max(0, timestamp - Date.now());
}

export async function moveToWait(job: JobFields, token?: string): Promise<number> {
  const jobId = idOf(job);
  const code = await job.queue.store.moveToWait(
    job.queue.qualifiedName,
    jobId,
    token === undefined ? undefined : lockToken(token),
    Date.now(),
  );
  checkMove(code, jobId, 'moveToWait');
  return 0;
}

export async function moveToWaitingChildren(job: JobFields, token: string): Promise<boolean> {
  const jobId = idOf(job);
  const res = await job.queue.store.moveToWaitingChildren(job.queue.qualifiedName, jobId, lockToken(token), Date.now());
  if (res === -9) throw failedChildError(jobId, 'moveToWaitingChildren');
  if (res < 0) throw moveError(res, jobId, 'moveToWaitingChildren');
  return res === 1;
}

export async function extendLock(job: JobFields, token: string, duration: number): Promise<number> {
  const store = job.queue.store;
  const lost = await store.extendLocks(job.queue.qualifiedName, [idOf(job)], [token], duration, Date.now());
  return lost.length === 0 ? 1 : 0;
}

/** What a job metric needs: the queue's name (not the qualified one), the job's name and start. */
export function jobMetricView(job: Pick<JobFields, 'name' | 'processedOn' | 'queue'>): {
  queueName: string;
  name: string;
  processedOn?: number;
} {
  return { queueName: job.queue.name, name: job.name, processedOn: job.processedOn };
}
