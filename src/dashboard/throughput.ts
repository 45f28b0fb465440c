import type { Queue } from '../queue.js';

/** Minutes the overview's chart spans. */
export const CHART_MINUTES = 60;

/** Jobs finished and stalled per minute over the last hour, oldest minute first (the last one is the current minute). */
export interface Throughput {
  /** Start of the first minute (ms). */
  since: number;
  completed: number[];
  /** Failed for good (retried attempts are not counted). */
  failed: number[];
  /** Moved back from active by the stalled check. */
  stalled: number[];
  /**
   * 'recorded': the store's per-minute counts (Store.getMinuteCounts, always kept); 'recorded+metrics':
   * the workers' opt-in `metrics` counted more in some minute (minutes from before the counts existed).
   */
  source: 'recorded' | 'recorded+metrics';
}

/** A minute changes slowly: each queue's counts are read again at most this often. */
const CACHE_MS = 5_000;

/**
 * The overview's throughput and stalled count: the counts every store records per minute inside
 * complete / fail / the stalled check (jobs removed on finishing included), one small read per
 * queue. Workers with the `metrics` option count finished jobs too: where they counted more (a
 * minute from before the store recorded its own), a minute shows the larger of the two.
 */
export class ThroughputReader {
  private readonly cache = new Map<string, { at: number; value: Throughput }>();

  async read(queue: Queue, now = Date.now()): Promise<Throughput> {
    const cached = this.cache.get(queue.qualifiedName);
    if (cached && now - cached.at < CACHE_MS) return cached.value;
    const first = Math.floor(now / 60_000) - (CHART_MINUTES - 1);
    const [minutes, metricsCompleted, metricsFailed] = await Promise.all([
      queue.store.getMinuteCounts(queue.qualifiedName, first),
      recordedPerMinute(queue, 'completed', first),
      recordedPerMinute(queue, 'failed', first),
    ]);
    const completed = new Array<number>(CHART_MINUTES).fill(0);
    const failed = new Array<number>(CHART_MINUTES).fill(0);
    const stalled = new Array<number>(CHART_MINUTES).fill(0);
    for (const m of minutes) {
      const i = m.minute - first;
      if (i < 0 || i >= CHART_MINUTES) continue;
      completed[i] = m.completed;
      failed[i] = m.failed;
      stalled[i] = m.stalled;
    }
    let fromMetrics = false;
    const merge = (into: number[], extra: number[]) => {
      extra.forEach((n, i) => {
        if (n > into[i]) {
          into[i] = n;
          fromMetrics = true;
        }
      });
    };
    merge(completed, metricsCompleted);
    merge(failed, metricsFailed);
    const value: Throughput = {
      since: first * 60_000,
      completed,
      failed,
      stalled,
      source: fromMetrics ? 'recorded+metrics' : 'recorded',
    };
    this.cache.set(queue.qualifiedName, { at: now, value });
    return value;
  }
}

/** The workers' opt-in metrics (BullMQ's points: newest minute open, then one per minute back) per chart minute. */
async function recordedPerMinute(queue: Queue, type: 'completed' | 'failed', first: number): Promise<number[]> {
  const out = new Array<number>(CHART_MINUTES).fill(0);
  const read = await queue.store.getMetrics(queue.qualifiedName, type, Date.now());
  if (read.count === 0) return out;
  const newest = Math.floor(read.prevTS / 60_000);
  const put = (minute: number, n: number) => {
    const i = minute - first;
    if (i >= 0 && i < CHART_MINUTES) out[i] = n;
  };
  put(newest, read.count - read.prevCount);
  for (const [i, n] of read.data.entries()) put(newest - 1 - i, n);
  return out;
}
