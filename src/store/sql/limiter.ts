import type { FetchRequest } from '../store.js';
import type { QueueRow } from './rows.js';

/**
 * The rate-limit window a fetch runs in: the global rate limit when set, else the worker's
 * limiter, counting job starts per fixed window (queues.limiter_window_end / limiter_count, as
 * the Redis store keeps limiter-start / limiter-count in meta). A max below 1 lets one job through
 * per window, as in BullMQ. `room`: how many jobs may start now (0: `ttl` ms until the window ends).
 */
export interface LimiterWindow {
  room: number;
  ttl: number;
  windowEnd: number;
  count: number;
}

export function limiterWindow(meta: QueueRow, req: FetchRequest, now: number): LimiterWindow | undefined {
  const limiter =
    meta.global_max !== null && meta.global_duration !== null
      ? { max: meta.global_max, duration: meta.global_duration }
      : req.limiter;
  if (!limiter) return undefined;
  const max = Math.max(1, limiter.max);
  let { limiter_window_end: windowEnd, limiter_count: count } = meta;
  if (windowEnd <= now) {
    windowEnd = now + limiter.duration;
    count = 0;
  }
  return count >= max
    ? { room: 0, ttl: windowEnd - now, windowEnd, count }
    : { room: max - count, ttl: 0, windowEnd, count };
}
