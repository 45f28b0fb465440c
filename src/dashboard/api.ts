import {
  describeJob,
  type JobSummary,
  type ListState,
  listJobs,
  STATES,
  splitJobKey,
  toState,
} from '../cli/job-view.js';
import type { Job } from '../job.js';
import type { Queue } from '../queue.js';
import type { QueueRegistry } from './registry.js';

/** An error with the HTTP status to answer it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const COUNTED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

export async function queueSummaries(registry: QueueRegistry) {
  const { names, listed } = await registry.names();
  const queues = await Promise.all(
    names.map(async (name) => {
      const q = await registry.get(name);
      const [counts, paused] = await Promise.all([q.getJobCounts(...COUNTED), q.isPaused()]);
      return { name, paused, counts };
    }),
  );
  return { queues, listed };
}

export async function jobPage(
  registry: QueueRegistry,
  name: string,
  params: URLSearchParams,
): Promise<{ state: ListState; page: number; pageSize: number; total: number; jobs: JobSummary[] }> {
  const state = toState(params.get('state') ?? 'waiting');
  if (!state) throw new HttpError(400, `state must be one of ${STATES.join(', ')}`);
  const page = intParam(params, 'page', 1, 1);
  const pageSize = Math.min(intParam(params, 'pageSize', 20, 1), 500);
  const q = await registry.get(name);
  const [jobs, counts] = await Promise.all([
    listJobs(q, state, (page - 1) * pageSize, pageSize),
    q.getJobCounts(state),
  ]);
  return { state, page, pageSize, total: counts[state] ?? 0, jobs };
}

function intParam(params: URLSearchParams, key: string, fallback: number, min: number): number {
  const text = params.get(key);
  if (text === null) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${key} must be an integer >= ${min}`);
  return n;
}

async function jobOf(registry: QueueRegistry, name: string, id: string): Promise<{ queue: Queue; job: Job }> {
  const queue = await registry.get(name);
  const job = await queue.getJob(id);
  if (!job) throw new HttpError(404, `job ${id} not found in queue ${name}`);
  return { queue, job };
}

/** A node of a flow tree as the page draws it. */
export interface FlowNode {
  queueName: string;
  id: string;
  name?: string;
  state: string;
  children: FlowNode[];
}

/** The job in full, plus the flow it belongs to (from its root, a few levels deep). */
export async function jobDetail(registry: QueueRegistry, name: string, id: string) {
  const { queue, job } = await jobOf(registry, name, id);
  const detail = await describeJob(queue, job);
  let root = { queue, job };
  for (let hops = 0; root.job.parent && hops < 10; hops++) {
    const { prefix, queueName } = splitJobKey(`${root.job.parent.queueKey}:${root.job.parent.id}`);
    const parentQueue = await registry.get(queueName, prefix);
    const parent = await parentQueue.getJob(root.job.parent.id);
    if (!parent) break;
    root = { queue: parentQueue, job: parent };
  }
  const flow = detail.children.length > 0 || job.parent ? await flowNode(registry, root.queue, root.job, 5) : undefined;
  return { ...detail, queueName: name, flow };
}

async function flowNode(registry: QueueRegistry, queue: Queue, job: Job, depth: number): Promise<FlowNode> {
  const node: FlowNode = {
    queueName: queue.name,
    id: job.id!,
    name: job.name,
    state: await job.getState(),
    children: [],
  };
  if (depth <= 1) return node;
  const deps = await job.getDependencies();
  const keys = [
    ...Object.keys(deps.processed ?? {}),
    ...(deps.unprocessed ?? []),
    ...(deps.failed ?? []),
    ...Object.keys(deps.ignored ?? {}),
  ].slice(0, 50);
  for (const key of keys) {
    const { prefix, queueName, id } = splitJobKey(key);
    const childQueue = await registry.get(queueName, prefix);
    const child = await childQueue.getJob(id);
    node.children.push(
      child
        ? await flowNode(registry, childQueue, child, depth - 1)
        : { queueName, id, state: 'removed', children: [] },
    );
  }
  return node;
}

export async function jobAction(registry: QueueRegistry, name: string, id: string, action: string, reason?: string) {
  const { queue, job } = await jobOf(registry, name, id);
  switch (action) {
    case 'retry': {
      const state = await job.getState();
      if (state !== 'failed' && state !== 'completed')
        throw new HttpError(409, `job ${id} is ${state}, not failed or completed`);
      await job.retry(state);
      return { ok: true };
    }
    case 'promote':
      if ((await job.getState()) !== 'delayed') throw new HttpError(409, `job ${id} is not delayed`);
      await job.promote();
      return { ok: true };
    case 'cancel': {
      // Body `reason` is optional; a finished job has nothing to cancel.
      if (!(await queue.cancelJob(id, reason))) throw new HttpError(409, `job ${id} finished already`);
      return { ok: true };
    }
    case 'remove':
      await queue.remove(id).catch((err: Error) => {
        throw new HttpError(409, err.message);
      });
      return { ok: true };
    default:
      throw new HttpError(404, `no job action "${action}"`);
  }
}

export async function queueAction(
  registry: QueueRegistry,
  name: string,
  action: string,
  body: Record<string, unknown>,
) {
  const queue = await registry.get(name);
  switch (action) {
    case 'pause':
      await queue.pause();
      return { ok: true, paused: true };
    case 'resume':
      await queue.resume();
      return { ok: true, paused: false };
    case 'clean': {
      const state = String(body.state ?? 'completed');
      if (!['completed', 'failed', 'delayed', 'wait', 'waiting', 'prioritized', 'paused'].includes(state)) {
        throw new HttpError(400, `cannot clean state "${state}"`);
      }
      const grace = Number(body.grace ?? 0);
      const limit = Number(body.limit ?? 100_000);
      if (!(grace >= 0) || !(limit >= 1)) throw new HttpError(400, 'grace must be >= 0 ms and limit >= 1');
      const ids = await queue.clean(grace, limit, state === 'waiting' ? 'wait' : state);
      return { ok: true, cleaned: ids.length };
    }
    case 'retry': {
      const state = body.state === 'completed' ? 'completed' : 'failed';
      await queue.retryJobs({ state });
      return { ok: true };
    }
    case 'promote':
      await queue.promoteJobs();
      return { ok: true };
    default:
      throw new HttpError(404, `no queue action "${action}"`);
  }
}
