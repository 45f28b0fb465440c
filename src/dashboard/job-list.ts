import { type JobSummary, STATES, summarize, toState } from '../cli/job-view.js';
import type { Job } from '../job.js';
import type { Queue } from '../queue.js';
import type { CountsCache } from './counts-cache.js';
import { HttpError, intParam } from './http.js';
import type { QueueRegistry } from './registry.js';

/** A text search or time filter looks at this many of a state's newest jobs, no more (the page says so). */
export const SEARCH_WINDOW = 10_000;
const CHUNK = 500;

/** A job list row: the CLI's summary plus its group, parent and how many durable steps it recorded. */
export interface JobRow extends JobSummary {
  group?: string;
  parent?: string;
  steps: number;
}

function row(job: Job, state: string): JobRow {
  const parent = job.parent ? `${job.parent.queueKey}:${job.parent.id}` : undefined;
  return {
    ...summarize(job, state),
    group: job.opts.group?.id !== undefined ? String(job.opts.group.id) : undefined,
    parent,
    steps: Object.keys(job.steps ?? {}).length,
  };
}

interface Filter {
  text?: string;
  from?: number;
  to?: number;
}

function timeParam(params: URLSearchParams, key: string): number | undefined {
  const text = params.get(key);
  if (!text) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${key} must be a date (ISO 8601) or epoch ms, not "${text}"`);
  return ms;
}

/** Finished jobs are filtered by when they finished, the others by when they were created. */
const timeOf = (job: Job, state: string) =>
  state === 'completed' || state === 'failed' ? (job.finishedOn ?? job.timestamp) : job.timestamp;

function matches(job: Job, state: string, f: Filter): boolean {
  const at = timeOf(job, state);
  if (f.from !== undefined && at < f.from) return false;
  if (f.to !== undefined && at > f.to) return false;
  if (!f.text) return true;
  const text = f.text;
  if (String(job.id).toLowerCase().includes(text) || job.name.toLowerCase().includes(text)) return true;
  return JSON.stringify(job.data ?? null)
    .toLowerCase()
    .includes(text);
}

/**
 * One page of a state's jobs, newest first. Plain paging reads only that page (fast with a million
 * jobs); with a search text or a time range, the newest SEARCH_WINDOW jobs are read in chunks and
 * filtered, and the answer says how many were looked at.
 */
export async function jobList(registry: QueueRegistry, counted: CountsCache, name: string, params: URLSearchParams) {
  const state = toState(params.get('state') ?? 'waiting');
  if (!state) throw new HttpError(400, `state must be one of ${STATES.join(', ')}`);
  const page = intParam(params, 'page', 1, 1);
  const pageSize = Math.min(intParam(params, 'pageSize', 20, 1), 500);
  const filter: Filter = {
    text: params.get('search')?.trim().toLowerCase() || undefined,
    from: timeParam(params, 'from'),
    to: timeParam(params, 'to'),
  };
  const queue = await registry.get(name);
  const stateTotal = (await counted.get(queue))[state] ?? 0;
  const start = (page - 1) * pageSize;
  if (!filter.text && filter.from === undefined && filter.to === undefined) {
    const jobs = await queue.getJobs([state], start, start + pageSize - 1, false);
    return { state, page, pageSize, total: stateTotal, stateTotal, jobs: jobs.map((j) => row(j, state)) };
  }
  const { found, scanned } = await scan(queue, state, filter);
  // An exact id names one job wherever it is, also beyond the searched window.
  const exact = filter.text ? await exactJob(queue, params.get('search')!.trim()) : undefined;
  return {
    state,
    page,
    pageSize,
    total: found.length,
    stateTotal,
    jobs: found.slice(start, start + pageSize).map((j) => row(j, state)),
    search: { scanned, window: SEARCH_WINDOW, complete: scanned >= stateTotal },
    exact,
  };
}

async function scan(queue: Queue, state: string, filter: Filter): Promise<{ found: Job[]; scanned: number }> {
  const found: Job[] = [];
  let scanned = 0;
  while (scanned < SEARCH_WINDOW) {
    const ids = await queue.getRanges([state], scanned, scanned + CHUNK - 1, false);
    scanned += ids.length;
    // A job removed since the ids were read is skipped.
    const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
    for (const job of jobs) if (job && matches(job, state, filter)) found.push(job);
    if (ids.length < CHUNK) break;
  }
  return { found, scanned };
}

async function exactJob(queue: Queue, id: string): Promise<{ id: string; state: string } | undefined> {
  if (!id || id.includes(':')) return undefined;
  const job = await queue.getJob(id).catch(() => undefined);
  return job ? { id, state: await job.getState() } : undefined;
}
