import type { CompleteItem, FetchRequest, JobRecord, MoveCode, Store } from '../store/store.js';

interface Pending {
  item: CompleteItem;
  wantNext: boolean;
  resolve(result: { code: MoveCode; next?: JobRecord; finishedOn: number }): void;
  reject(err: unknown): void;
}

/**
 * Completes a worker's jobs in batches: completions that arrive while a batch is being written
 * (or in the same microtask checkpoint) go to the store together, in one atomic
 * `complete` that also fetches one next job per completion that wants one. One script or
 * transaction per batch instead of per job is the main throughput lever at high concurrency;
 * a lone completion is written at once, so latency does not grow.
 */
export class CompletionBatcher {
  private queued: Pending[] = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly queue: string,
    private readonly fetchRequest: (n: number) => FetchRequest,
    private readonly maxBatch = 1000,
  ) {}

  complete(item: CompleteItem, wantNext: boolean): Promise<{ code: MoveCode; next?: JobRecord; finishedOn: number }> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, wantNext, resolve, reject });
      // Completions that arrive while a batch is in flight join the next one; a lone one goes now.
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, this.maxBatch);
        const wanting = batch.filter((p) => p.wantNext).length;
        const now = Date.now();
        try {
          const res = await this.store.complete(
            this.queue,
            batch.map((p) => p.item),
            now,
            wanting > 0 ? this.fetchRequest(wanting) : undefined,
          );
          const next = [...(res.next?.jobs ?? [])];
          // The store fetched one job fewer per refused completion: the rest go to slots that asked.
          for (const [i, p] of batch.entries()) {
            const code = res.codes[i];
            p.resolve({ code, next: p.wantNext && code === 0 ? next.shift() : undefined, finishedOn: now });
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
