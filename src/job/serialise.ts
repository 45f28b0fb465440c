import { ValidationError } from '../errors.js';
import type { JobsOptions } from '../options/job-options.js';
import { toJson, validateJobOptions, validateKeyText } from '../options/validate.js';
import type { DedupOptions, NewJob, ParentPolicy } from '../store/store.js';
import type { JobFields, JobJson, JobProgress } from './types.js';

/** Validates and serialises a job for the store; throws before anything is stored. */
export function toNewJob(name: string, data: unknown, opts: JobsOptions): NewJob {
  if (typeof name !== 'string') throw new ValidationError('Job name must be a string');
  validateKeyText(name, 'Job name');
  validateJobOptions(opts);
  const dataText = toJson(data, 'data');
  if (opts.sizeLimit && Buffer.byteLength(dataText) > opts.sizeLimit) {
    throw new ValidationError(
      `The size of job ${name} exceeds the limit ${opts.sizeLimit} bytes (its data is ${Buffer.byteLength(dataText)} bytes)`,
    );
  }
  const { jobId, ...rest } = opts;
  return {
    id: jobId === '' ? undefined : jobId,
    name,
    data: dataText,
    opts: toJson(rest, 'opts'),
    timestamp: opts.timestamp ?? Date.now(),
    delay: opts.delay ?? 0,
    // A grouped job's priority is its priority within the group (stores keep it in the same field).
    priority: opts.group ? (opts.group.priority ?? 0) : (opts.priority ?? 0),
    lifo: opts.lifo ?? false,
    parent: opts.parent ? { id: opts.parent.id, queue: opts.parent.queue, policy: parentPolicy(opts) } : undefined,
    dedup: opts.deduplication as DedupOptions | undefined,
    group: opts.group ? { id: String(opts.group.id), maxSize: opts.group.maxSize } : undefined,
  };
}

function parentPolicy(opts: JobsOptions): ParentPolicy | undefined {
  if (opts.failParentOnFailure) return 'fail';
  if (opts.continueParentOnFailure) return 'continue';
  if (opts.ignoreDependencyOnFailure) return 'ignore';
  if (opts.removeDependencyOnFailure) return 'remove';
  return undefined;
}

/** A JSON field of a stored record (text) or of `toJSON()` output (already a value). */
export function parseField(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

/** Copies the fields of a stored record or `toJSON()` output onto a freshly constructed job. */
export function restoreFields(job: JobFields, json: JobJson): void {
  job.progress = (parseField(json.progress) ?? 0) as JobProgress;
  job.delay = Number(json.delay ?? 0);
  job.priority = Number(json.priority ?? 0);
  job.timestamp = Number(json.timestamp ?? job.timestamp);
  job.attemptsMade = Number(json.attemptsMade ?? 0);
  job.attemptsStarted = Number(json.attemptsStarted ?? 0);
  job.stalledCounter = Number(json.stalledCounter ?? 0);
  if (json.processedOn != null) job.processedOn = Number(json.processedOn);
  if (json.finishedOn != null) job.finishedOn = Number(json.finishedOn);
  if (json.returnvalue != null) job.returnvalue = parseField(json.returnvalue);
  if (json.failedReason != null) job.failedReason = String(json.failedReason);
  if (json.stacktrace != null) job.stacktrace = parseField(json.stacktrace) as string[];
  if (json.processedBy != null) job.processedBy = String(json.processedBy);
  if (json.token != null) job.token = String(json.token);
  if (json.deferredFailure != null) job.deferredFailure = String(json.deferredFailure);
  if (json.steps != null) job.steps = parseField(json.steps) as Record<string, unknown>;
  const parent = parseField(json.parent) as { id: string; queue?: string; queueKey?: string } | undefined;
  if (parent) {
    const queueKey = parent.queueKey ?? parent.queue ?? '';
    job.parent = { id: parent.id, queueKey };
    job.parentKey = `${queueKey}:${parent.id}`;
  }
}

/**
 * The job's fields as plain values (BullMQ's `toJSON`: `JSON.stringify(job)` encodes each once).
 * `steps` (Docket's durable steps) only when the job recorded any, so BullMQ's shape is unchanged otherwise.
 */
export function jobToJSON(job: JobFields): JobJson {
  const json = {
    id: job.id,
    name: job.name,
    data: job.data,
    opts: job.opts,
    progress: job.progress,
    delay: job.delay,
    priority: job.priority,
    timestamp: job.timestamp,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    stalledCounter: job.stalledCounter,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
    returnvalue: job.returnvalue,
    failedReason: job.failedReason,
    stacktrace: job.stacktrace,
    processedBy: job.processedBy,
    parent: job.parent,
    parentKey: job.parentKey,
    queueQualifiedName: job.queueQualifiedName,
  } as JobJson;
  if (hasSteps(job)) json.steps = job.steps;
  return json;
}

function hasSteps(job: JobFields): boolean {
  for (const _ in job.steps) return true;
  return false;
}

/** The stored form, JSON fields as text (BullMQ's `asJSON`). */
export function jobAsJSON(job: JobFields): JobJson {
  const { parentKey: _parentKey, ...plain } = jobToJSON(job) as JobJson & { parentKey?: string };
  return {
    ...plain,
    data: JSON.stringify(job.data ?? {}),
    opts: JSON.stringify(job.opts),
    progress: JSON.stringify(job.progress),
    returnvalue: JSON.stringify(job.returnvalue),
    stacktrace: JSON.stringify(job.stacktrace),
    parent: job.parent ? JSON.stringify({ id: job.parent.id, queue: job.parent.queueKey }) : undefined,
    ...(hasSteps(job) ? { steps: JSON.stringify(job.steps) } : {}),
  };
}
