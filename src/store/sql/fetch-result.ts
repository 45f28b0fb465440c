import type { FetchRequest, FetchResult } from '../store.js';
import type { QueueRow } from './rows.js';

/**
 * The part of a SQL store's fetch that reads no more than the queue's row (src/store/sqlite/
 * transitions.ts and src/store/postgres/fetching.ts `fetch`): the result as it starts, with the
 * next delayed job's due time, and whether the fetch ends there (paused, no tokens, rate limited).
 */
export function fetchStart(
  meta: QueueRow,
  nextDelayedAt: number | undefined,
  req: FetchRequest,
): { result: FetchResult; done: boolean } {
  const result: FetchResult = { jobs: [], rateLimitTtl: 0, paused: meta.paused === 1 };
  if (nextDelayedAt !== undefined) result.nextDelayedAt = nextDelayedAt;
  if (result.paused || req.tokens.length === 0) return { result, done: true };
  if (meta.rate_limit_until > req.now) {
    result.rateLimitTtl = meta.rate_limit_until - req.now;
    return { result, done: true };
  }
  return { result, done: false };
}

/** A fetch that took nothing past a group in a used-up rate window: the worker looks again when it ends. */
export function wakeForGroups(result: FetchResult, groupWakeAt: number | undefined): FetchResult {
  if (result.jobs.length === 0 && groupWakeAt !== undefined) {
    result.nextDelayedAt = Math.min(result.nextDelayedAt ?? groupWakeAt, groupWakeAt);
  }
  return result;
}
