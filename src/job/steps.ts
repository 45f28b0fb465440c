import { randomUUID } from 'node:crypto';
import { DelayedError, moveError, ValidationError, WaitingChildrenError } from '../errors.js';
import type { JobsOptions } from '../options/job-options.js';
import { validateQueueName } from '../options/validate.js';
import type { FlowJob } from '../store/store.js';
import { moveToWaitingChildren } from './moves.js';
import { toNewJob } from './serialise.js';
import { idOf, type JobFields } from './types.js';

/**
 * Durable steps (issue 20): `job.step(id, fn)` runs `fn` until its result is recorded in the job,
 * and on every later run of the same job (a retry after a failure, a stall, a resume after a sleep
 * or after children) returns the recorded result instead. The record and the lock check are one
 * store transition (Store.recordStep), so a worker that lost its lock records nothing.
 */

/** Longest step id accepted: ids are keys of a JSON object stored in the job. */
const MAX_STEP_ID = 512;

/** A child job `spawnChildren` adds; `queueName` defaults to the parent's queue (same prefix). */
export interface StepChild<Data = any> {
  name: string;
  data?: Data;
  queueName?: string;
  /** The child's options; `jobId` and `parent` are the step's to set. */
  opts?: Omit<JobsOptions, 'jobId' | 'parent'>;
}

/** What spawnChildren records: the keys (`<prefix>:<queue>:<id>`) of the children it added. */
interface SpawnRecord {
  children: string[];
}

type StepJob = JobFields;

/** The step ids each Job object (one per fetch, so one per run) used so far. */
const usedIds = new WeakMap<StepJob, Set<string>>();

function checkStepId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_STEP_ID) {
    throw new ValidationError(`A step id must be a non-empty string of at most ${MAX_STEP_ID} characters`);
  }
}

/** Claims `id` for this run; a second claim while the first is running or after it finished is a bug. */
function claim(job: StepJob, id: unknown): string {
  checkStepId(id);
  let used = usedIds.get(job);
  if (!used) {
    used = new Set();
    usedIds.set(job, used);
  }
  if (used.has(id)) {
    throw new ValidationError(
      `Step "${id}" of job ${idOf(job)} was used twice in one run: step ids must be unique within a job`,
    );
  }
  used.add(id);
  return id;
}

/** The result as JSON text: undefined is recorded as null; functions, symbols, BigInts, cycles are refused. */
function resultJson(value: unknown, id: string, jobId: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new ValidationError(`The result of step "${id}" of job ${jobId} is not JSON: ${(err as Error).message}`);
  }
  if (text === undefined) {
    throw new ValidationError(`The result of step "${id}" of job ${jobId} is not JSON (a ${typeof value})`);
  }
  return text;
}

function lockToken(job: JobFields, what: string): string {
  if (!job.token) {
    throw new Error(`${what} needs an active job fetched by a worker (job ${idOf(job)} holds no lock token)`);
  }
  return job.token;
}

/** Records a step's result under the job's lock (and parks the job when `delayUntil` is given). */
async function record(job: StepJob, id: string, text: string, delayUntil?: number): Promise<void> {
  const jobId = idOf(job);
  const token = lockToken(job, 'A durable step');
  const code = await job.queue.store.recordStep(
    job.queue.qualifiedName,
    jobId,
    token,
    id,
    text,
    Date.now(),
    delayUntil,
  );
  if (code !== 0) throw moveError(code, jobId, delayUntil === undefined ? 'recordStep' : 'moveToDelayed');
  job.steps[id] = JSON.parse(text);
}

/**
 * Runs step `id` once: returns its recorded result when there is one, else runs `fn`, records what
 * it returns and returns that as recorded (after a JSON round trip, as a replay returns it). A step
 * that throws records nothing and may run again under the same id.
 */
export async function runStep<T>(job: StepJob, id: string, fn: () => T | Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw new ValidationError(`Step "${String(id)}" needs a function to run`);
  const stepId = claim(job, id);
  if (Object.hasOwn(job.steps, stepId)) return job.steps[stepId] as T;
  let value: T;
  try {
    value = await fn();
  } catch (err) {
    usedIds.get(job)?.delete(stepId);
    throw err;
  }
  await record(job, stepId, resultJson(value, stepId, idOf(job)));
  return job.steps[stepId] as T;
}

/**
 * A durable sleep: the first time, records step `id` and moves the job to delayed for `ms` in the
 * same transition, then throws DelayedError to end the run; once recorded, returns at once.
 */
export async function sleepStep(job: StepJob, id: string, ms: number): Promise<void> {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new ValidationError(`job.sleep needs a finite number of ms >= 0, got ${String(ms)}`);
  }
  const stepId = claim(job, id);
  if (Object.hasOwn(job.steps, stepId)) return;
  const until = Date.now() + ms;
  await record(job, stepId, JSON.stringify({ sleptUntil: until }), until);
  job.delay = ms;
  throw new DelayedError();
}

/**
 * Adds `children` once (their ids are recorded first, then the add is retried until it happened,
 * so a crash between the two adds them once), then waits for them: throws WaitingChildrenError
 * while any is pending; once none is, returns their return values in the order given (undefined
 * for a child that did not complete).
 */
export async function spawnStep<R>(job: StepJob, id: string, children: StepChild[]): Promise<R[]> {
  const stepId = claim(job, id);
  const jobId = idOf(job);
  const store = job.queue.store;
  const qn = job.queue.qualifiedName;
  let plan = job.steps[stepId] as SpawnRecord | undefined;
  if (!plan) {
    if (!Array.isArray(children)) {
      throw new ValidationError(`spawnChildren step "${stepId}" needs an array of children`);
    }
    const nodes = children.map((child) => childNode(job, child));
    plan = { children: nodes.map((n) => `${n.queue}:${n.id}`) };
    await record(job, stepId, JSON.stringify(plan));
    await addOnce(job, nodes);
  } else {
    const added = await isAdded(job, plan);
    if (!added) await addOnce(job, planNodes(job, plan, children));
  }
  if (await moveToWaitingChildren(job, lockToken(job, 'spawnChildren'))) throw new WaitingChildrenError();
  const deps = await store.getDependencies(qn, jobId);
  return plan.children.map((key) => {
    const value = deps.processed[key];
    return (value === undefined ? undefined : JSON.parse(value)) as R;
  });
}

/** The stored form of a child of this job, with a fresh id. */
function childNode(job: StepJob, child: StepChild, id: string = randomUUID()): FlowJob {
  if (!child || typeof child.name !== 'string') throw new ValidationError('Each child needs a name');
  const queueName = child.queueName ?? job.queue.name;
  validateQueueName(queueName);
  const parent = { id: idOf(job), queue: job.queue.qualifiedName };
  const stored = toNewJob(child.name, child.data ?? {}, { ...child.opts, jobId: id, parent });
  return { ...stored, id, queue: `${job.queue.prefix}:${queueName}`, hasChildren: false };
}

/** The recorded children rebuilt from this run's arguments, under their recorded ids. */
function planNodes(job: StepJob, plan: SpawnRecord, children: StepChild[]): FlowJob[] {
  if (!Array.isArray(children) || children.length !== plan.children.length) {
    throw new ValidationError(
      `spawnChildren step of job ${idOf(job)} recorded ${plan.children.length} children but was given ${children?.length}`,
    );
  }
  return children.map((child, i) =>
    childNode(job, child, plan.children[i].slice(plan.children[i].lastIndexOf(':') + 1)),
  );
}

/** Whether the recorded children were added: addFlow adds all or none, so one linked child tells. */
async function isAdded(job: StepJob, plan: SpawnRecord): Promise<boolean> {
  const deps = await job.queue.store.getDependencies(job.queue.qualifiedName, idOf(job));
  const linked = new Set([
    ...Object.keys(deps.processed),
    ...deps.unprocessed,
    ...Object.keys(deps.failed),
    ...Object.keys(deps.ignored),
  ]);
  return plan.children.some((key) => linked.has(key));
}

async function addOnce(job: StepJob, nodes: FlowJob[]): Promise<void> {
  if (nodes.length === 0) return;
  const store = job.queue.store;
  await Promise.all([...new Set(nodes.map((n) => n.queue))].map((q) => store.ready(q)));
  await store.addFlow(nodes);
}
