import type { MetricsRead } from './types.js';

/**
 * BullMQ's view of per-minute counts, shared by both stores. BullMQ pushes a data point when a job
 * finishes in a later minute than the last one: the points run from the minute before the newest
 * (`last`) back to the first recorded minute, newest first, at most `maxPoints` of them.
 */
export function metricPoints(
  count: number,
  byMinute: Map<number, number>,
  last: number,
  first: number,
  maxPoints: number,
): MetricsRead {
  const length = Math.max(0, Math.min(last - first, maxPoints || 0));
  return {
    count,
    data: Array.from({ length }, (_, i) => byMinute.get(last - 1 - i) ?? 0),
    prevCount: count - (byMinute.get(last) ?? 0),
    prevTS: last * 60_000,
  };
}
