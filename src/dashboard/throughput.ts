import type { Queue } from '../queue.js';

/** Minutes the overview's chart spans. */
export const CHART_MINUTES = 60;

/** Jobs finished per minute over the last hour, oldest minute first (the last one is the current minute). */
export interface Throughput {
  /** Start of the first minute (ms). */
  since: number;
  completed: number[];
  failed: number[];
  /** 'retained': counted off the finished lists; 'metrics+retained': the workers' `metrics` counts too. */
  source: 'retained' | 'metrics+retained';
}

/** A minute changes slowly: each queue's counts are read again at most this often. */
const CACHE_MS = 5_000;

/**
 * The overview's throughput: without a counter of its own, the finished lists are ordered by finish
 * time, so one indexed range count per minute gives the retained jobs (cheap with a million jobs;
 * jobs removed on finishing are missed). Workers with the `metrics` option count every job: where
 * they did, a minute shows the larger of the two.
 */
export class ThroughputReader {
  private readonly cache = new Map<string, { at: number; value: Throughput }>();

  async read(queue: Queue, now = Date.now()): Promise<Throughput> {
    const cached = this.cache.get(queue.qualifiedName);
    if (cached && now - cached.at < CACHE_MS) return cached.value;
    const since = (Math.floor(now / 60_000) - (CHART_MINUTES - 1)) * 60_000;
    const [completed, failed] = await Promise.all(
      (['completed', 'failed'] as const).map(async (type) => {
        const [retained, recorded] = await Promise.all([
          queue.store.countFinishedPerMinute(queue.qualifiedName, type, since, CHART_MINUTES),
          recordedPerMinute(queue, type, since),
        ]);
        return { counts: retained.map((n, i) => Math.max(n, recorded[i] ?? 0)), recorded: recorded.some((n) => n > 0) };
      }),
    );
    const value: Throughput = {
      since,
      completed: completed.counts,
      failed: failed.counts,
      source: completed.recorded || failed.recorded ? 'metrics+retained' : 'retained',
    };
    this.cache.set(queue.qualifiedName, { at: now, value });
    return value;
  }
}

/** The workers' opt-in metrics (BullMQ's points: newest minute open, then one per minute back) per chart minute. */
async function recordedPerMinute(queue: Queue, type: 'completed' | 'failed', since: number): Promise<number[]> {
  const out = new Array<number>(CHART_MINUTES).fill(0);
  const read = await queue.store.getMetrics(queue.qualifiedName, type, Date.now());
  if (read.count === 0) return out;
  const newest = Math.floor(read.prevTS / 60_000);
  const first = since / 60_000;
  const put = (minute: number, n: number) => {
    const i = minute - first;
    if (i >= 0 && i < CHART_MINUTES) out[i] = n;
  };
  put(newest, read.count - read.prevCount);
  for (const [i, n] of read.data.entries()) put(newest - 1 - i, n);
  return out;
}
