import type { Dependencies } from './store/store.js';

/** One page of a kind of children: from `cursor` (an offset; 0 = the start), at most `count` (default 20). */
export interface DependencyPage {
  cursor?: number;
  count?: number;
}

/**
 * Which outcomes to report; none set = all of them, unpaged (BullMQ's `getDependencies` options).
 * A kind that is set is read one page at a time (`true` or `{}` = the first 20).
 */
export type DependencyFilter = {
  processed?: boolean | DependencyPage;
  unprocessed?: boolean | DependencyPage;
  failed?: boolean | DependencyPage;
  ignored?: boolean | DependencyPage;
};

export interface JobDependencies {
  processed?: Record<string, unknown>;
  unprocessed?: string[];
  failed?: string[];
  ignored?: Record<string, string>;
  /** Where the next page of a paged kind starts; 0 when this page was the last. */
  nextProcessedCursor?: number;
  nextUnprocessedCursor?: number;
  nextFailedCursor?: number;
  nextIgnoredCursor?: number;
}

export type DependencyCounts = { processed?: number; unprocessed?: number; failed?: number; ignored?: number };

const wantsAll = (f: DependencyFilter) => !f.processed && !f.unprocessed && !f.failed && !f.ignored;

const DEFAULT_PAGE_SIZE = 20;

/**
 * The page of `keys` a page option asks for, and the next cursor (0 at the end). BullMQ pages with
 * Redis' SCAN cursors; Docket's cursors are offsets into the keys in sorted order, the same on both
 * stores (children that change kind between two calls may shift a later page: docs/compatibility.md).
 */
function page(keys: string[], opt: boolean | DependencyPage): { keys: string[]; next: number } {
  const p = typeof opt === 'object' ? opt : {};
  const cursor = Math.max(0, p.cursor ?? 0);
  const count = Math.max(1, p.count ?? DEFAULT_PAGE_SIZE);
  const sorted = [...keys].sort();
  const end = cursor + count;
  return { keys: sorted.slice(cursor, end), next: end < sorted.length ? end : 0 };
}

function parsed(values: Record<string, string>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, JSON.parse(values[k])]));
}

/** A parent's children as `job.getDependencies()` returns them, `processed` values parsed. */
export function dependenciesView(deps: Dependencies, filter: DependencyFilter): JobDependencies {
  if (wantsAll(filter)) {
    return {
      processed: parsed(deps.processed, Object.keys(deps.processed)),
      unprocessed: deps.unprocessed,
      failed: Object.keys(deps.failed),
      ignored: deps.ignored,
    };
  }
  const out: JobDependencies = {};
  if (filter.processed) {
    const p = page(Object.keys(deps.processed), filter.processed);
    out.processed = parsed(deps.processed, p.keys);
    out.nextProcessedCursor = p.next;
  }
  if (filter.unprocessed) {
    const p = page(deps.unprocessed, filter.unprocessed);
    out.unprocessed = p.keys;
    out.nextUnprocessedCursor = p.next;
  }
  if (filter.failed) {
    const p = page(Object.keys(deps.failed), filter.failed);
    out.failed = p.keys;
    out.nextFailedCursor = p.next;
  }
  if (filter.ignored) {
    const p = page(Object.keys(deps.ignored), filter.ignored);
    out.ignored = Object.fromEntries(p.keys.map((k) => [k, deps.ignored[k]]));
    out.nextIgnoredCursor = p.next;
  }
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

/** One child in `queue.getDependencies()`: its key, and for processed children the parsed value. */
export interface DependencyItem {
  id: string;
  v?: unknown;
  err?: string;
}

/** `queue.getDependencies(parentId, type, start, end)`: the slice [start, end] (end -1 = to the end). */
export function dependencySlice(
  deps: Dependencies,
  type: 'processed' | 'pending',
  start: number,
  end: number,
): { items: DependencyItem[]; total: number } {
  const keys = (type === 'processed' ? Object.keys(deps.processed) : deps.unprocessed).slice().sort();
  const slice = keys.slice(start, end < 0 ? undefined : end + 1);
  const items = slice.map((id): DependencyItem => {
    if (type !== 'processed') return { id };
    try {
      return { id, v: JSON.parse(deps.processed[id]) };
    } catch (err) {
      return { id, err: (err as Error).message };
    }
  });
  return { items, total: keys.length };
}
