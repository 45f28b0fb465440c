import type { Retention } from '../store/store.js';
import type { KeepJobs } from './job-options.js';

/** How many jobs BullMQ removes by age at one finish when `limit` is not given. */
export const DEFAULT_AGE_LIMIT = 1000;

/**
 * BullMQ's KeepJobs as the store's Retention: `true` or a count of 0 removes the job at once, a
 * negative count keeps every job, `{ age, count, limit }` keeps jobs newer than `age` seconds
 * (at most `limit` removed per finish) and at most `count` of them.
 */
export function toRetention(keep: KeepJobs | undefined): Retention {
  if (keep === undefined || keep === false) return {};
  if (keep === true) return { remove: true };
  if (typeof keep === 'number') return keep === 0 ? { remove: true } : keep > 0 ? { count: keep } : {};
  if (keep.count === 0) return { remove: true };
  const out: Retention = {};
  if (keep.age !== undefined) {
    out.ageMs = keep.age * 1000;
    out.limit = keep.limit ?? DEFAULT_AGE_LIMIT;
  }
  if (keep.count !== undefined && keep.count > 0) out.count = keep.count;
  return out;
}
