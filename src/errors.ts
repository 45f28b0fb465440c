/**
 * Errors a processor throws to steer its job, and errors Docket raises. The special errors keep
 * BullMQ's messages and names: workers recognise them by class or by name/message, so they also
 * survive a process boundary.
 */

export const DELAYED_ERROR = 'bullmq:movedToDelayed';
export const WAITING_CHILDREN_ERROR = 'bullmq:movedToWaitingChildren';
export const WAITING_ERROR = 'bullmq:movedToWait';
export const RATE_LIMIT_ERROR = 'bullmq:rateLimitExceeded';
export const UNRECOVERABLE_ERROR = 'bullmq:unrecoverable';

/** Thrown after `job.moveToDelayed(ts, token)`: the worker leaves the job delayed. */
export class DelayedError extends Error {
  constructor(message = DELAYED_ERROR) {
    super(message);
    this.name = 'DelayedError';
  }
}

/** Thrown after `job.moveToWaitingChildren(token)` returned true. */
export class WaitingChildrenError extends Error {
  constructor(message = WAITING_CHILDREN_ERROR) {
    super(message);
    this.name = 'WaitingChildrenError';
  }
}

/** Thrown after `job.moveToWait(token)`. */
export class WaitingError extends Error {
  constructor(message = WAITING_ERROR) {
    super(message);
    this.name = 'WaitingError';
  }
}

/** Thrown after a rate limit was set: the worker puts the job back to waiting, no attempt spent. */
export class RateLimitError extends Error {
  constructor(message = RATE_LIMIT_ERROR) {
    super(message);
    this.name = 'RateLimitError';
  }
}

/** Fails the job at once, whatever attempts remain. */
export class UnrecoverableError extends Error {
  constructor(message = UNRECOVERABLE_ERROR) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}

/** ioredis's message for a call on a closed connection (BullMQ exports it under this name). */
export const CONNECTION_CLOSED_ERROR_MSG = 'Connection is closed.';

/** Raised when a connection was closed while a call was waiting on it. */
export class ConnectionClosedError extends Error {
  /** `cause`: what closed the connection, when known (BullMQ's second argument), kept as `error.cause`. */
  constructor(message = CONNECTION_CLOSED_ERROR_MSG, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ConnectionClosedError';
  }
}

/**
 * False for an error that only says the connection is closed or was refused, as BullMQ's helper of
 * this name: code retrying on connection trouble tells such errors from the job's own.
 */
export function isNotConnectionError(err: unknown): boolean {
  if (err instanceof ConnectionClosedError) return false;
  const { message, code } = (err ?? {}) as { message?: unknown; code?: unknown };
  if (message === CONNECTION_CLOSED_ERROR_MSG) return false;
  if (typeof message === 'string' && message.includes('ECONNREFUSED')) return false;
  return code !== 'ECONNREFUSED';
}

/**
 * The store cannot be reached (Redis refuses the connection, times out, or rejects the
 * credentials): raised by a call once the client's retries ran out. `cause` is the last error.
 */
export class ConnectionError extends Error {
  /** The system error's fields (`code: 'ECONNREFUSED'`, …), as on the error BullMQ lets through. */
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
    const cause = options?.cause as Record<string, unknown> | undefined;
    if (cause && typeof cause === 'object') {
      if (typeof cause.code === 'string') this.code = cause.code;
      if (typeof cause.errno === 'number') this.errno = cause.errno;
      if (typeof cause.syscall === 'string') this.syscall = cause.syscall;
      if (typeof cause.address === 'string') this.address = cause.address;
      if (typeof cause.port === 'number') this.port = cause.port;
    }
  }
}

/** Bad input: names the option or value at fault. Nothing was stored. */
export class ValidationError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** A move of a job refused by the store (missing or foreign lock, job gone, wrong state). */
export class JobMoveError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly jobId: string,
  ) {
    super(message);
    this.name = 'JobMoveError';
  }
}

/**
 * BullMQ Pro's error for an add to a group that already holds `maxSize` waiting jobs: nothing of the
 * add is stored, so the caller may catch it and drop the job.
 */
export class GroupMaxSizeExceededError extends Error {
  constructor(
    readonly groupId: string,
    readonly maxSize: number,
    queue?: string,
  ) {
    super(
      `Group ${groupId}${queue ? ` of queue ${queue}` : ''} already has ${maxSize} waiting jobs (its maxSize): the job was not added; retry later or raise maxSize.`,
    );
    this.name = 'GroupMaxSizeExceededError';
  }
}

/** Which special error `err` is, recognised by class or by BullMQ's name/message. */
export function specialErrorKind(err: unknown): 'delayed' | 'waiting-children' | 'waiting' | 'rate-limit' | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { name, message } = err as { name?: string; message?: string };
  if (err instanceof DelayedError || name === 'DelayedError' || message === DELAYED_ERROR) return 'delayed';
  if (err instanceof WaitingChildrenError || name === 'WaitingChildrenError' || message === WAITING_CHILDREN_ERROR)
    return 'waiting-children';
  if (err instanceof WaitingError || name === 'WaitingError' || message === WAITING_ERROR) return 'waiting';
  if (err instanceof RateLimitError || name === 'RateLimitError' || message === RATE_LIMIT_ERROR) return 'rate-limit';
  return undefined;
}

export function isUnrecoverable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { name, message } = err as { name?: string; message?: string };
  return err instanceof UnrecoverableError || name === 'UnrecoverableError' || message === UNRECOVERABLE_ERROR;
}

/** BullMQ's wording for a refused move, so user code matching on it keeps working. */
export function moveError(code: number, jobId: string, command: string): JobMoveError {
  switch (code) {
    case -1:
      return new JobMoveError(`Missing key for job ${jobId}. ${command}`, code, jobId);
    case -2:
      return new JobMoveError(`Missing lock for job ${jobId}. ${command}`, code, jobId);
    case -3:
      return new JobMoveError(`Job ${jobId} is not in the active state. ${command}`, code, jobId);
    case -4:
      return new JobMoveError(`Job ${jobId} has pending dependencies. ${command}`, code, jobId);
    case -5:
      return new JobMoveError(`Missing key for parent job ${jobId}. ${command}`, code, jobId);
    case -6:
      return new JobMoveError(`Lock mismatch for job ${jobId}. Cmd ${command} from active`, code, jobId);
    case -7:
      // `jobId` is the parent's key here, as BullMQ words it.
      return new JobMoveError(`The parent job ${jobId} cannot be replaced. ${command}`, code, jobId);
    case -8:
      return new JobMoveError(
        `Job ${jobId} belongs to a job scheduler and cannot be removed directly. ${command}`,
        code,
        jobId,
      );
    default:
      return new JobMoveError(`Unknown code ${code} error for ${jobId}. ${command}`, code, jobId);
  }
}

/**
 * A job with a child that failed under failParentOnFailure cannot complete or wait for children
 * (BullMQ's code -9): unrecoverable, so the worker fails it at once whatever attempts remain.
 */
export function failedChildError(jobId: string, command: string): UnrecoverableError {
  const err = new UnrecoverableError(
    `Cannot complete job ${jobId} because it has at least one failed child. ${command}`,
  );
  (err as UnrecoverableError & { code: number }).code = -9;
  return err;
}

/** The Redis server lacks what Docket needs (Redis Functions: Redis 7.0 or newer); names the server and the fix. */
export class UnsupportedServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedServerError';
  }
}
