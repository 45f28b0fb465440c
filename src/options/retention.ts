import type { Retention } from '../store/store.js';
import type { KeepJobs } from './job-options.js';

/** BullMQ's KeepJobs as the store's Retention. */
export function toRetention(keep: KeepJobs | undefined): Retention {
  if (keep === undefined || keep === false) return {};
  if (keep === true) return { remove: true };
  if (typeof keep === 'number') return keep <= 0 ? { remove: true } : { count: keep };
  const out: Retention = {};
  if (keep.age !== undefined) out.ageMs = keep.age * 1000;
  if (keep.count !== undefined) out.count = keep.count;
  return out;
}
