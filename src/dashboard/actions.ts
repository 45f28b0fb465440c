import type { Job } from '../job.js';
import type { JobsOptions } from '../options/job-options.js';
import type { Queue } from '../queue.js';
import { HttpError } from './http.js';
import type { QueueRegistry } from './registry.js';

/** Job actions the page offers in each state (the API checks the same before acting). */
export function allowedActions(state: string): string[] {
  switch (state) {
    case 'failed':
    case 'completed':
      return ['retry', 'remove'];
    case 'delayed':
      return ['promote', 'cancel', 'remove'];
    case 'active':
      return ['cancel'];
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return ['cancel', 'remove'];
    default:
      return [];
  }
}

async function jobOf(queue: Queue, id: string): Promise<Job> {
  const job = await queue.getJob(id);
  if (!job) throw new HttpError(404, `job ${id} not found in queue ${queue.name}`);
  return job;
}

async function act(queue: Queue, id: string, action: string, reason?: string): Promise<void> {
  const job = await jobOf(queue, id);
  const state = await job.getState();
  if (!['retry', 'promote', 'cancel', 'remove'].includes(action)) throw new HttpError(404, `no job action "${action}"`);
  if (!allowedActions(state).includes(action)) {
    throw new HttpError(
      409,
      `job ${id} is ${state}: ${action} is not possible (allowed: ${allowedActions(state).join(', ') || 'none'})`,
    );
  }
  switch (action) {
    case 'retry':
      await job.retry(state as 'failed' | 'completed');
      return;
    case 'promote':
      await job.promote();
      return;
    case 'cancel':
      // A job that finished meanwhile has nothing to cancel.
      if (!(await queue.cancelJob(id, reason))) throw new HttpError(409, `job ${id} finished already`);
      return;
    case 'remove':
      await queue.remove(id).catch((err: Error) => {
        throw new HttpError(409, err.message);
      });
  }
}

export async function jobAction(registry: QueueRegistry, name: string, id: string, action: string, reason?: string) {
  await act(await registry.get(name), id, action, reason);
  return { ok: true };
}

/** Most jobs one bulk request acts on (the page selects from one page of at most 500). */
const MAX_BULK = 1000;

/** One action on several jobs; each job's outcome is reported, a refusal does not stop the rest. */
export async function bulkAction(registry: QueueRegistry, name: string, body: Record<string, unknown>) {
  const action = String(body.action ?? '');
  if (!['retry', 'remove', 'promote'].includes(action)) {
    throw new HttpError(400, 'action must be one of retry, remove, promote');
  }
  const ids = body.ids;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
    throw new HttpError(400, 'ids must be a non-empty array of job ids');
  }
  if (ids.length > MAX_BULK) throw new HttpError(400, `at most ${MAX_BULK} ids per request`);
  const queue = await registry.get(name);
  const failed: { id: string; error: string }[] = [];
  for (const id of ids as string[]) {
    await act(queue, id, action).catch((err: Error) => failed.push({ id, error: err.message }));
  }
  return { ok: failed.length === 0, done: ids.length - failed.length, failed };
}

/** JSON text from the add form, or an already parsed value (API callers). */
function parseJson(value: unknown, field: string, fallback: unknown): unknown {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new HttpError(400, `${field} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function addJob(registry: QueueRegistry, name: string, body: Record<string, unknown>) {
  const jobName = typeof body.name === 'string' ? body.name.trim() : '';
  if (!jobName) throw new HttpError(400, 'name is required');
  const data = parseJson(body.data, 'data', {});
  const opts = parseJson(body.opts, 'options', {});
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new HttpError(400, 'options must be a JSON object, e.g. {"delay": 5000, "attempts": 3}');
  }
  const queue = await registry.get(name);
  // Bad options throw ValidationError, answered 400 with its message.
  const job = await queue.add(jobName, data, opts as JobsOptions);
  return { ok: true, id: job.id };
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
    case 'bulk':
      return bulkAction(registry, name, body);
    case 'add':
      return addJob(registry, name, body);
    default:
      throw new HttpError(404, `no queue action "${action}"`);
  }
}
