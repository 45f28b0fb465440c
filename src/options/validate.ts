import { ValidationError } from '../errors.js';
import { type JobsOptions, MAX_PRIORITY } from './job-options.js';

/** The one place that rejects bad input, before anything is stored. */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Names and ids are keys: a lone surrogate would be stored as U+FFFD and collide with others. */
export function validateKeyText(value: string, field: string): void {
  if (LONE_SURROGATE.test(value)) throw new ValidationError(`${field} contains a lone UTF-16 surrogate`);
}

export function validateQueueName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('Queue name must be a non-empty string');
  if (name.includes(':')) throw new ValidationError(`Queue name must not contain ":" (got "${name}")`);
  validateKeyText(name, 'Queue name');
}

export function validatePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || prefix.length === 0) throw new ValidationError('prefix must be a non-empty string');
  validateKeyText(prefix, 'prefix');
}

function nonNegativeNumber(value: unknown, field: string, integer = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new ValidationError(
      `${field} must be a ${integer ? 'non-negative integer' : 'non-negative number'} (got ${String(value)})`,
    );
  }
}

export function validateJobOptions(opts: JobsOptions, strategies: readonly string[] = []): void {
  nonNegativeNumber(opts.delay, 'opts.delay');
  nonNegativeNumber(opts.attempts, 'opts.attempts', true);
  nonNegativeNumber(opts.timestamp, 'opts.timestamp');
  nonNegativeNumber(opts.keepLogs, 'opts.keepLogs', true);
  nonNegativeNumber(opts.stackTraceLimit, 'opts.stackTraceLimit', true);
  nonNegativeNumber(opts.sizeLimit, 'opts.sizeLimit', true);
  if (opts.priority !== undefined) {
    const p = opts.priority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > MAX_PRIORITY) {
      throw new ValidationError(`opts.priority must be an integer between 0 and ${MAX_PRIORITY} (got ${String(p)})`);
    }
  }
  if (opts.jobId !== undefined) {
    const id = opts.jobId as unknown;
    if (typeof id !== 'string' || id.length === 0) throw new ValidationError('opts.jobId must be a non-empty string');
    if (/^\d+$/.test(id)) {
      throw new ValidationError(`opts.jobId cannot be an integer ("${id}"): it would clash with automatic ids`);
    }
    if (id.includes(':')) throw new ValidationError(`opts.jobId must not contain ":" (got "${id}")`);
    validateKeyText(id, 'opts.jobId');
  }
  const backoff = opts.backoff;
  if (backoff !== undefined) {
    if (typeof backoff === 'number') nonNegativeNumber(backoff, 'opts.backoff');
    else if (typeof backoff === 'object' && backoff !== null) {
      const known = ['fixed', 'exponential', 'custom', ...strategies];
      if (typeof backoff.type !== 'string' || !known.includes(backoff.type)) {
        throw new ValidationError(
          `opts.backoff.type "${String(backoff.type)}" is unknown: use ${known.map((k) => `"${k}"`).join(', ')} (custom runs the worker's settings.backoffStrategy)`,
        );
      }
      nonNegativeNumber(backoff.delay, 'opts.backoff.delay');
      if (
        backoff.jitter !== undefined &&
        (typeof backoff.jitter !== 'number' || backoff.jitter < 0 || backoff.jitter > 1)
      ) {
        throw new ValidationError(`opts.backoff.jitter must be between 0 and 1 (got ${String(backoff.jitter)})`);
      }
    } else throw new ValidationError('opts.backoff must be a number or { type, delay }');
  }
  for (const field of ['removeOnComplete', 'removeOnFail'] as const) {
    const keep = opts[field];
    if (keep === undefined || typeof keep === 'boolean') continue;
    if (typeof keep === 'number') nonNegativeNumber(keep, `opts.${field}`, true);
    else if (typeof keep === 'object' && keep !== null) {
      nonNegativeNumber(keep.age, `opts.${field}.age`);
      nonNegativeNumber(keep.count, `opts.${field}.count`, true);
    } else throw new ValidationError(`opts.${field} must be a boolean, a number or { age, count }`);
  }
  const policies = (
    [
      'failParentOnFailure',
      'continueParentOnFailure',
      'ignoreDependencyOnFailure',
      'removeDependencyOnFailure',
    ] as const
  ).filter((k) => opts[k]);
  if (policies.length > 1) {
    throw new ValidationError(`The following options cannot be used together: ${policies.join(', ')}`);
  }
  if (opts.debounce !== undefined) {
    throw new ValidationError('opts.debounce has been removed (as in BullMQ v6): use opts.deduplication');
  }
  if (opts.repeat !== undefined) {
    throw new ValidationError('opts.repeat is not supported (as in BullMQ v6): use queue.upsertJobScheduler');
  }
  const dedup = opts.deduplication as Record<string, unknown> | undefined;
  if (dedup !== undefined) {
    if (!dedup || typeof dedup.id !== 'string' || dedup.id.length === 0) {
      throw new ValidationError('opts.deduplication.id must be a non-empty string');
    }
    nonNegativeNumber(dedup.ttl, 'opts.deduplication.ttl');
  }
  if (opts.parent !== undefined) {
    const parent = opts.parent as unknown as Record<string, unknown>;
    if (!parent || typeof parent.id !== 'string' || typeof parent.queue !== 'string') {
      throw new ValidationError(
        'opts.parent must be { id: string, queue: string } (queue = parent.queueQualifiedName)',
      );
    }
  }
}

/** JSON text of `value`, or a ValidationError naming `field` when it cannot be stored as JSON. */
export function toJson(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? {} : value);
  } catch (err) {
    throw new ValidationError(`${field} cannot be stored as JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new ValidationError(`${field} cannot be stored as JSON`);
  return text;
}
