/**
 * Messages between a sandbox pool (parent) and its children, plus the helpers both sides use to
 * carry errors and values across the boundary. Everything sent is plain JSON.
 */

/** An error as it crosses the boundary; rebuilt into an `Error` with the same name, message and stack. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable JSON-safe properties (e.g. `code`). */
  props?: Record<string, unknown>;
}

/** The job's fields as the child sees them. */
export type JobFields = Record<string, unknown> & { data?: unknown; progress?: unknown };

/**
 * The abort reason of a cancelled job as it crosses the boundary: an error is rebuilt as one, any
 * other value (the string given to `worker.cancelJob(id, reason)`) arrives as it was, so the
 * child's `signal.reason` is what an in-process processor would see.
 */
export type AbortReason = { error: SerializedError } | { value: unknown };

export type ParentMessage =
  | { type: 'start'; file: string; job: JobFields; token?: string }
  | { type: 'cancel'; reason: AbortReason }
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'call'; id: number; method: JobMethod; args: unknown[] }
  | { type: 'done'; ok: true; value?: unknown }
  // fatal: the child is not to be reused (it crashed, or the processor file failed to load).
  | { type: 'done'; ok: false; error: SerializedError; fatal?: boolean };

/** Job methods a sandboxed processor may call; each runs on the real `Job` in the parent. */
export const JOB_METHODS = [
  'updateProgress',
  'log',
  'updateData',
  'moveToDelayed',
  'moveToWait',
  'moveToWaitingChildren',
  'extendLock',
  'getChildrenValues',
  'getDependencies',
  'getDependenciesCount',
  'getFailedChildrenValues',
  'getIgnoredChildrenFailures',
  'getState',
  // Durable steps: `step` carries [id, the value the child's function returned] (child.ts).
  'step',
  'sleep',
  'spawnChildren',
] as const;

export type JobMethod = (typeof JOB_METHODS)[number];

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // fall through
  }
  return String(value);
}

/**
 * `JSON.stringify(value)`, where a reference back to an object that encloses it (or to `root`, the
 * error that holds it) reads "[Circular]", as BullMQ sends such error properties; an object
 * reached twice without a cycle is written twice.
 */
function jsonMarkingCycles(value: unknown, root: object): string | undefined {
  const enclosing: unknown[] = [];
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v !== 'object' || v === null) return v;
    // `this` holds `v`: the objects being written are `this` and its own enclosing ones.
    enclosing.length = enclosing.lastIndexOf(this) + 1;
    if (v === root || enclosing.includes(v)) return '[Circular]';
    enclosing.push(v);
    return v;
  });
}

/** Turns anything thrown into a `SerializedError`; non-Error values get a readable message. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error || (err && typeof err === 'object' && 'message' in err && 'name' in err)) {
    const e = err as Error & Record<string, unknown>;
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(e)) {
      if (key === 'name' || key === 'message' || key === 'stack') continue;
      try {
        const json = jsonMarkingCycles(e[key], e);
        if (json !== undefined) props[key] = JSON.parse(json);
      } catch {
        // not JSON-safe (a BigInt, a throwing toJSON): left out
      }
    }
    return {
      name: String(e.name ?? 'Error'),
      message: String(e.message ?? ''),
      stack: typeof e.stack === 'string' ? e.stack : undefined,
      props: Object.keys(props).length > 0 ? props : undefined,
    };
  }
  const message = typeof err === 'string' ? err : `Processor threw a non-Error value: ${describe(err)}`;
  const error = new Error(message);
  return { name: 'Error', message, stack: error.stack };
}

/** Rebuilds an `Error` with the serialized name, message and stack. */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message);
  if (s.props) Object.assign(err, s.props);
  Object.defineProperty(err, 'name', { value: s.name, writable: true, configurable: true, enumerable: false });
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}

/** A JSON copy of `value`, or throws a clear error naming `what` when it cannot be serialised. */
export function toJsonValue(value: unknown, what: string): unknown {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new Error(`${what} is not JSON-serialisable: ${(err as Error).message}`);
  }
  return json === undefined ? undefined : JSON.parse(json);
}

/** `reason` (a signal's abort reason) for the child: errors serialised, JSON values kept. */
export function serializeAbortReason(reason: unknown): AbortReason {
  if (reason instanceof Error) return { error: serializeError(reason) };
  try {
    return { value: toJsonValue(reason, 'Abort reason') };
  } catch {
    return { error: serializeError(reason) };
  }
}

/** The abort reason as the child's signal carries it (`undefined`: the signal's default AbortError). */
export function deserializeAbortReason(reason: AbortReason): unknown {
  return 'error' in reason ? deserializeError(reason.error) : reason.value;
}
