/**
 * Entry of a sandbox child (a forked process, or a worker thread): loads the user's processor file
 * and runs one job at a time, forwarding the job's methods to the parent over IPC.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import {
  type ChildMessage,
  deserializeAbortReason,
  deserializeError,
  JOB_METHODS,
  type JobFields,
  type JobMethod,
  type ParentMessage,
  serializeError,
  toJsonValue,
} from './protocol.js';

type UserProcessor = (job: unknown, token?: string, signal?: AbortSignal) => unknown;

const port = isMainThread ? undefined : parentPort;

function send(msg: ChildMessage, then?: () => void): void {
  if (port) {
    port.postMessage(msg);
    then?.();
  } else if (process.send && process.connected) {
    process.send(msg, undefined, {}, () => then?.());
  } else {
    then?.();
  }
}

let loaded: { file: string; fn: Promise<UserProcessor> } | undefined;

function load(file: string): Promise<UserProcessor> {
  if (loaded?.file === file) return loaded.fn;
  const fn = import(file).then((mod: Record<string, unknown>) => {
    const candidates = [mod.default, (mod.default as Record<string, unknown> | undefined)?.default, mod.processor];
    const found = candidates.find((c) => typeof c === 'function');
    // BullMQ's text, which code matching a job's failedReason relies on.
    if (!found) throw new Error('No function is exported in processor file');
    return found as UserProcessor;
  });
  loaded = { file, fn };
  fn.catch(() => {
    if (loaded?.fn === fn) loaded = undefined;
  });
  return fn;
}

let nextCallId = 0;
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let current: { controller: AbortController } | undefined;

/**
 * The getters BullMQ's sandbox stops waiting for when the parent has not answered in time, failing
 * the call with `TimeoutError: <method> timed out in (<ms>ms)` (its text): 5 s, or 500 ms when
 * NODE_ENV is `test`, as in BullMQ. Moves are not timed out: one may still happen after the child
 * gave up on it.
 */
const TIMED_GETTERS: ReadonlySet<JobMethod> = new Set<JobMethod>([
  'getChildrenValues',
  'getIgnoredChildrenFailures',
  'getDependenciesCount',
  'getDependencies',
]);
const GETTER_TIMEOUT_MS = process.env.NODE_ENV === 'test' ? 500 : 5_000;

function call(method: JobMethod, args: unknown[]): Promise<unknown> {
  const id = ++nextCallId;
  return new Promise((resolve, reject) => {
    if (TIMED_GETTERS.has(method)) {
      const timer = setTimeout(() => {
        if (calls.delete(id)) reject(new Error(`TimeoutError: ${method} timed out in (${GETTER_TIMEOUT_MS}ms)`));
      }, GETTER_TIMEOUT_MS);
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          fn(v);
        };
      calls.set(id, { resolve: settle(resolve), reject: settle(reject) });
    } else {
      calls.set(id, { resolve, reject });
    }
    let safeArgs: unknown[];
    try {
      safeArgs = toJsonValue(args, `Arguments of job.${method}()`) as unknown[];
    } catch (err) {
      calls.delete(id);
      reject(err);
      return;
    }
    send({ type: 'call', id, method, args: safeArgs });
  });
}

function makeJob(fields: JobFields): Record<string, unknown> {
  const job: Record<string, unknown> = { ...fields };
  for (const method of JOB_METHODS) job[method] = (...args: unknown[]) => call(method, args);
  // Set before the parent answers, as BullMQ's sandbox does: a processor that does not await the
  // call still reads its own progress (data) back at once.
  job.updateProgress = (progress: unknown) => {
    job.progress = progress;
    return call('updateProgress', [progress]);
  };
  job.updateData = (data: unknown) => {
    job.data = data;
    return call('updateData', [data]);
  };
  job.steps = { ...((fields.steps as Record<string, unknown> | undefined) ?? {}) };
  job.step = (id: unknown, fn: () => unknown) => runStep(job, id, fn);
  job.toJSON = () => ({ ...fields, data: job.data, progress: job.progress, steps: job.steps });
  job.asJSON = job.toJSON;
  return job;
}

/** The step ids used in the current run (one job at a time per child). */
let usedSteps = new Set<string>();

/**
 * job.step in the sandbox: a recorded step returns its result here; otherwise `fn` runs here and
 * the parent records its value (validating the id and the value as job.step does there).
 */
async function runStep(job: Record<string, unknown>, id: unknown, fn: () => unknown): Promise<unknown> {
  const steps = job.steps as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') throw new TypeError('A step id must be a non-empty string');
  if (usedSteps.has(id)) {
    throw new Error(`Step "${id}" of job ${job.id} was used twice in one run: step ids must be unique within a job`);
  }
  if (Object.hasOwn(steps, id)) {
    usedSteps.add(id);
    return steps[id];
  }
  usedSteps.add(id);
  let value: unknown;
  try {
    value = await fn();
  } catch (err) {
    usedSteps.delete(id);
    throw err;
  }
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new Error(`The result of step "${id}" of job ${job.id} is not JSON (a ${typeof value})`);
  }
  const recorded = await call('step', [id, value]);
  steps[id] = recorded ?? null;
  return recorded ?? null;
}

async function run(msg: Extract<ParentMessage, { type: 'start' }>): Promise<void> {
  const controller = new AbortController();
  current = { controller };
  usedSteps = new Set();
  let result: ChildMessage;
  let fn: UserProcessor;
  try {
    fn = await load(msg.file);
  } catch (err) {
    // The module system keeps a failed load: this child would fail every job, so it is not reused.
    current = undefined;
    send({ type: 'done', ok: false, error: serializeError(err), fatal: true });
    return;
  }
  try {
    const value = await fn(makeJob(msg.job), msg.token, controller.signal);
    result = { type: 'done', ok: true, value: toJsonValue(value, 'Sandboxed processor result') };
  } catch (err) {
    result = { type: 'done', ok: false, error: serializeError(err) };
  }
  current = undefined;
  send(result);
}

function onMessage(msg: ParentMessage): void {
  switch (msg.type) {
    case 'start':
      void run(msg);
      break;
    case 'cancel':
      current?.controller.abort(deserializeAbortReason(msg.reason));
      break;
    case 'reply': {
      const pending = calls.get(msg.id);
      if (!pending) break;
      calls.delete(msg.id);
      if (msg.ok) pending.resolve(msg.value);
      else pending.reject(deserializeError(msg.error));
      break;
    }
  }
}

/** A crash while a job runs fails that job with the error; the child then goes away. */
function fatal(err: unknown): void {
  const exit = () => process.exit(1);
  if (current) {
    current = undefined;
    send({ type: 'done', ok: false, error: serializeError(err), fatal: true }, exit);
  } else {
    console.error(err);
    exit();
  }
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

if (port) {
  port.on('message', onMessage);
} else {
  process.on('message', (msg) => onMessage(msg as ParentMessage));
  process.on('disconnect', () => process.exit(0));
}
send({ type: 'ready' });
