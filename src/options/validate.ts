import { ValidationError } from '../errors.js';
import { type JobsOptions, MAX_PRIORITY } from './job-options.js';

/** The one place that rejects bad input, before anything is stored. */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Names and ids are keys: a lone surrogate would be stored as U+FFFD and collide with others. */
export function validateKeyText(value: string, field: string): void {
  if (LONE_SURROGATE.test(value)) throw new ValidationError(`${field} contains a lone UTF-16 surrogate`);
}

export function validateQueueName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('Queue name must be provided');
  if (name.includes(':')) throw new ValidationError(`Queue name cannot contain : (got "${name}")`);
  validateKeyText(name, 'Queue name');
}

export function validatePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || prefix.length === 0) throw new ValidationError('prefix must be a non-empty string');
  validateKeyText(prefix, 'prefix');
}

/** BullMQ's priority limit (2^21 - 1): 0 = no priority, 1 runs first. */
function validatePriority(p: unknown): void {
  if (p === undefined || p === 0) return;
  if (typeof p !== 'number' || !Number.isFinite(p)) {
    throw new ValidationError(`Priority should be between 0 and ${MAX_PRIORITY} (got ${String(p)})`);
  }
  if (Math.trunc(p) !== p) throw new ValidationError(`Priority should not be float (got ${p})`);
  if (p < 0 || p > MAX_PRIORITY)
    throw new ValidationError(`Priority should be between 0 and ${MAX_PRIORITY} (got ${p})`);
}

/** A custom id: not an integer's text (automatic ids are), no ':' (it separates key parts). */
function validateJobId(id: unknown): void {
  if (id === undefined || id === '') return; // an empty id is ignored: the job gets a number, as in BullMQ
  if (typeof id !== 'string') throw new ValidationError(`opts.jobId must be a string (got ${typeof id})`);
  if (`${Number.parseInt(id, 10)}` === id) {
    // BullMQ's words exactly (code matches on them); an integer id would clash with automatic ids.
    throw new ValidationError('Custom Id cannot be integers');
  }
  if (id.includes(':')) throw new ValidationError(`Custom Id cannot contain : (got "${id}")`);
  validateKeyText(id, 'opts.jobId');
}

function nonNegativeNumber(value: unknown, field: string, integer = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new ValidationError(
      `${field} must be a ${integer ? 'non-negative integer' : 'non-negative number'} (got ${String(value)})`,
    );
  }
}

/** The longest timer Node keeps (a longer one fires at once). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** A timeout in ms: non-negative (0 = none) and within what a Node timer can wait. */
export function validateTimeout(value: unknown, field: string): void {
  nonNegativeNumber(value, field);
  if (typeof value === 'number' && value > MAX_TIMEOUT_MS) {
    throw new ValidationError(`${field} must be at most ${MAX_TIMEOUT_MS} ms (got ${value})`);
  }
}

export function validateJobOptions(opts: JobsOptions): void {
  nonNegativeNumber(opts.delay, 'opts.delay');
  nonNegativeNumber(opts.attempts, 'opts.attempts', true);
  nonNegativeNumber(opts.timestamp, 'opts.timestamp');
  nonNegativeNumber(opts.keepLogs, 'opts.keepLogs', true);
  nonNegativeNumber(opts.stackTraceLimit, 'opts.stackTraceLimit', true);
  nonNegativeNumber(opts.sizeLimit, 'opts.sizeLimit', true);
  validateTimeout(opts.timeout, 'opts.timeout');
  validatePriority(opts.priority);
  validateJobId(opts.jobId);
  validateGroup(opts);
  const backoff = opts.backoff;
  if (backoff !== undefined) {
    if (typeof backoff === 'number') nonNegativeNumber(backoff, 'opts.backoff');
    else if (typeof backoff === 'object' && backoff !== null) {
      // Any type name is accepted, as in BullMQ: 'fixed' and 'exponential' are built in, and every
      // other name is handed to the worker's settings.backoffStrategy when the job fails.
      if (typeof backoff.type !== 'string' || backoff.type.length === 0) {
        throw new ValidationError(
          `opts.backoff.type must be a strategy name such as "fixed" or "exponential" (got ${String(backoff.type)})`,
        );
      }
      nonNegativeNumber(backoff.delay, 'opts.backoff.delay');
      if (
        backoff.jitter !== undefined &&
        (typeof backoff.jitter !== 'number' || !(backoff.jitter >= 0 && backoff.jitter <= 1))
      ) {
        throw new ValidationError(`Jitter should be between 0 and 1 (got ${String(backoff.jitter)})`);
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
  const policies =
    // BullMQ's order, which its error text follows.
    (
      [
        'removeDependencyOnFailure',
        'failParentOnFailure',
        'continueParentOnFailure',
        'ignoreDependencyOnFailure',
      ] as const
    ).filter((k) => opts[k]);
  if (policies.length > 1) {
    throw new ValidationError(`The following options cannot be used together: ${policies.join(', ')}`);
  }
  if (opts.debounce !== undefined) {
    throw new ValidationError('Debounce option has been removed. Use deduplication option instead');
  }
  if (opts.repeat !== undefined) {
    // queue.add takes it before this point (BullMQ v5's repeatable jobs, src/queue-repeat.ts); v5's addBulk never did.
    throw new ValidationError(
      'opts.repeat is only taken by queue.add (BullMQ v5 repeatable jobs), not by addBulk, flows or defaultJobOptions: use queue.add or queue.upsertJobScheduler',
    );
  }
  const dedup = opts.deduplication as Record<string, unknown> | undefined;
  if (dedup !== undefined) {
    if (!dedup || typeof dedup.id !== 'string' || dedup.id.length === 0) {
      throw new ValidationError('Deduplication id must be provided');
    }
    nonNegativeNumber(dedup.ttl, 'opts.deduplication.ttl');
    // A deduplicated add may return another job instead: a parent would then wait for a child it never got.
    if (opts.parent !== undefined)
      throw new ValidationError('Deduplication and parent options cannot be used together');
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

/**
 * BullMQ Pro's `opts.group`: a non-empty string (or number) id, `priority` within the group (0 to
 * 2 097 151), `maxSize` (a positive integer). A job's own `priority` and `lifo` do not combine with a
 * group (Pro ignores them there; Docket says so instead): use `group.priority`.
 */
function validateGroup(opts: JobsOptions): void {
  const group = opts.group;
  if (group === undefined) return;
  if (typeof group !== 'object' || group === null)
    throw new ValidationError('opts.group must be { id, priority?, maxSize? }');
  const id = group.id as unknown;
  if (!((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isSafeInteger(id)))) {
    throw new ValidationError(`opts.group.id must be a non-empty string (got ${String(id)})`);
  }
  if (group.priority !== undefined) validatePriority(group.priority);
  if (group.maxSize !== undefined && !(Number.isInteger(group.maxSize) && group.maxSize > 0)) {
    throw new ValidationError(`opts.group.maxSize must be a positive integer (got ${String(group.maxSize)})`);
  }
  if (opts.priority)
    throw new ValidationError('opts.priority cannot be combined with opts.group: use opts.group.priority');
  if (opts.lifo) throw new ValidationError('opts.lifo cannot be combined with opts.group');
}
