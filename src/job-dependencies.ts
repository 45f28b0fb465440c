import type { Dependencies } from './store/store.js';

/** Which outcomes to report; none set = all of them (BullMQ's `getDependencies` flags). */
export type DependencyFilter = { processed?: unknown; unprocessed?: unknown; failed?: unknown; ignored?: unknown };

export interface JobDependencies {
  processed?: Record<string, unknown>;
  unprocessed?: string[];
  failed?: string[];
  ignored?: Record<string, string>;
}

export type DependencyCounts = { processed?: number; unprocessed?: number; failed?: number; ignored?: number };

const wantsAll = (f: DependencyFilter) => !f.processed && !f.unprocessed && !f.failed && !f.ignored;

/** A parent's children as `job.getDependencies()` returns them, `processed` values parsed. */
export function dependenciesView(deps: Dependencies, filter: DependencyFilter): JobDependencies {
  const all = wantsAll(filter);
  const out: JobDependencies = {};
  if (all || filter.processed) {
    out.processed = Object.fromEntries(Object.entries(deps.processed).map(([k, v]) => [k, JSON.parse(v)]));
  }
  if (all || filter.unprocessed) out.unprocessed = deps.unprocessed;
  if (all || filter.failed) out.failed = Object.keys(deps.failed);
  if (all || filter.ignored) out.ignored = deps.ignored;
  return out;
}

export function dependencyCounts(deps: Dependencies, filter: DependencyFilter): DependencyCounts {
  const all = wantsAll(filter);
  const out: DependencyCounts = {};
  if (all || filter.processed) out.processed = Object.keys(deps.processed).length;
  if (all || filter.unprocessed) out.unprocessed = deps.unprocessed.length;
  if (all || filter.failed) out.failed = Object.keys(deps.failed).length;
  if (all || filter.ignored) out.ignored = Object.keys(deps.ignored).length;
  return out;
}
