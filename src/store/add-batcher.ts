import type { Store } from './store.js';
import type { AddResult, NewJob } from './types.js';

interface Pending {
  jobs: NewJob[];
  resolve(result: AddResult): void;
  reject(err: unknown): void;
}

/** Jobs in one merged call at most: past that, the next call takes the rest. */
const MAX_JOBS = 1000;

/**
 * Lets adds made at the same time share one store call. An add with nothing in flight for its queue
 * goes to the store at once (one awaited `add` after another waits for nothing); adds that arrive
 * while one is in flight are queued and go together, in input order, in one `addJobs` when it
 * returns: one script or transaction for many callers instead of one each (100 callers adding at
 * once: bench/RESULTS.md "add-concurrent").
 *
 * Each caller's jobs stay one atomic group within the merged call, as `addJobs` stores all or
 * nothing. Jobs with a parent go alone: a missing parent fails its call, and it must not fail the
 * others. A merged call that fails fails each of its callers with the same error, as their own call
 * would have (a lost connection); it is not resent piecewise, which could store a job twice.
 */
export class AddBatcher {
  private readonly queued = new Map<string, Pending[]>();
  private readonly busy = new Set<string>();

  constructor(private readonly store: Store) {}

  add(queue: string, jobs: NewJob[]): Promise<AddResult> {
    if (jobs.some((j) => j.parent)) return this.store.addJobs(queue, jobs);
    return new Promise((resolve, reject) => {
      const list = this.queued.get(queue);
      if (list) list.push({ jobs, resolve, reject });
      else this.queued.set(queue, [{ jobs, resolve, reject }]);
      if (!this.busy.has(queue)) void this.send(queue);
    });
  }

  private async send(queue: string): Promise<void> {
    const list = this.queued.get(queue);
    if (!list || list.length === 0) return;
    let count = 0;
    let take = 0;
    while (take < list.length && (take === 0 || count + list[take].jobs.length <= MAX_JOBS)) {
      count += list[take].jobs.length;
      take++;
    }
    const batch = list.splice(0, take);
    if (list.length === 0) this.queued.delete(queue);
    this.busy.add(queue);
    try {
      const jobs = batch.length === 1 ? batch[0].jobs : batch.flatMap((p) => p.jobs);
      const result = await this.store.addJobs(queue, jobs);
      let at = 0;
      for (const p of batch) {
        const n = p.jobs.length;
        p.resolve(
          batch.length === 1
            ? result
            : { ids: result.ids.slice(at, at + n), duplicated: result.duplicated.slice(at, at + n) },
        );
        at += n;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.busy.delete(queue);
      void this.send(queue);
    }
  }
}

const batchers = new WeakMap<Store, AddBatcher>();

/** The store's add batcher: one per store, shared by every Queue, FlowProducer and Job of it. */
export function addBatcher(store: Store): AddBatcher {
  let b = batchers.get(store);
  if (!b) {
    b = new AddBatcher(store);
    batchers.set(store, b);
  }
  return b;
}
