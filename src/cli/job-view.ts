import type { Job } from '../job.js';
import type { Queue } from '../queue.js';

/** States a job list can be asked for, in the order people read them. */
export const STATES = [
  'active',
  'waiting',
  'prioritized',
  'delayed',
  'waiting-children',
  'failed',
  'completed',
] as const;

export type ListState = (typeof STATES)[number];

/** `wait` → `waiting`; undefined when `text` names no state. */
export function toState(text: string): ListState | undefined {
  const state = text === 'wait' ? 'waiting' : text;
  return (STATES as readonly string[]).includes(state) ? (state as ListState) : undefined;
}

/** One line of a job list. */
export interface JobSummary {
  id: string;
  name: string;
  state: string;
  attemptsMade: number;
  progress: unknown;
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  delay: number;
  priority: number;
  failedReason?: string;
}

export function summarize(job: Job, state: string): JobSummary {
  return {
    id: job.id!,
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    progress: job.progress,
    timestamp: job.timestamp,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
    delay: job.delay,
    priority: job.priority,
    failedReason: job.failedReason,
  };
}

/** A child of a parent job, from `job.getDependencies()`. */
export interface ChildRef {
  /** `<prefix>:<queue>:<id>` */
  key: string;
  queueName: string;
  id: string;
  status: 'processed' | 'unprocessed' | 'failed' | 'ignored';
  /** Return value (processed) or failure reason (ignored). */
  value?: unknown;
}

/** Everything known about one job. */
export interface JobDetail extends JobSummary {
  data: unknown;
  opts: unknown;
  returnvalue: unknown;
  attemptsStarted: number;
  stalledCounter: number;
  processedBy?: string;
  stacktrace: string[];
  /** Durable steps' recorded results (job.step), step id → result, in the order recorded. */
  steps: Record<string, unknown>;
  logs: string[];
  parent?: { id: string; queueKey: string };
  children: ChildRef[];
}

/** `<prefix>:<queue>:<id>` → parts; queue names and ids never contain ':', prefixes may. */
export function splitJobKey(key: string): { prefix: string; queueName: string; id: string } {
  const idAt = key.lastIndexOf(':');
  const queueAt = key.lastIndexOf(':', idAt - 1);
  return { prefix: key.slice(0, queueAt), queueName: key.slice(queueAt + 1, idAt), id: key.slice(idAt + 1) };
}

export async function describeJob(queue: Queue, job: Job): Promise<JobDetail> {
  const [state, logs, deps] = await Promise.all([job.getState(), queue.getJobLogs(job.id!), job.getDependencies()]);
  const child = (key: string, status: ChildRef['status'], value?: unknown): ChildRef => {
    const { queueName, id } = splitJobKey(key);
    return { key, queueName, id, status, ...(value !== undefined ? { value } : {}) };
  };
  const children = [
    ...Object.entries(deps.processed ?? {}).map(([k, v]) => child(k, 'processed', v)),
    ...(deps.unprocessed ?? []).map((k) => child(k, 'unprocessed')),
    ...(deps.failed ?? []).map((k) => child(k, 'failed')),
    ...Object.entries(deps.ignored ?? {}).map(([k, v]) => child(k, 'ignored', v)),
  ];
  return {
    ...summarize(job, state),
    data: job.data,
    opts: job.opts,
    returnvalue: job.returnvalue,
    attemptsStarted: job.attemptsStarted,
    stalledCounter: job.stalledCounter,
    processedBy: job.processedBy,
    stacktrace: job.stacktrace ?? [],
    steps: job.steps ?? {},
    logs: logs.logs,
    parent: job.parent,
    children,
  };
}

/** Jobs of one state, or of every state (each tagged with its state), at most `limit` from `offset`. */
export async function listJobs(
  queue: Queue,
  state: ListState | undefined,
  offset: number,
  limit: number,
): Promise<JobSummary[]> {
  if (state) {
    const jobs = await queue.getJobs([state], offset, offset + limit - 1, false);
    return jobs.map((j) => summarize(j, state));
  }
  const out: JobSummary[] = [];
  let skip = offset;
  for (const s of STATES) {
    if (out.length >= limit) break;
    const jobs = await queue.getJobs([s], 0, skip + limit - out.length - 1, false);
    const taken = jobs.slice(skip);
    skip = Math.max(0, skip - jobs.length);
    out.push(...taken.map((j) => summarize(j, s)));
  }
  return out.slice(0, limit);
}
