import type { CompleteItem, FetchRequest, JobRecord, MoveCode, Store } from '../store/store.js';

interface Pending {
  item: CompleteItem;
  wantNext: boolean;
  resolve(result: { code: MoveCode; next?: JobRecord; finishedOn: number; rateLimitTtl: number }): void;
  reject(err: unknown): void;
}

/**
 * Completes a worker's jobs in batches: completions that arrive while a batch is being written
 * (or in the same microtask checkpoint) go to the store together, in one atomic
 * `complete` that also fetches one next job per completion that wants one. One script or
 * transaction per batch instead of per job is the main throughput lever at high concurrency;
 * a lone completion is written at once, so latency does not grow.
 *
 * `shape()` says how big a batch may be and how many may be in flight. On Redis the worker lets
 * two half-size batches overlap: while Redis runs one, the worker runs the jobs the other
 * fetched. With one batch at a time Node and Redis took turns, each idle while the other worked
 * (bench/NOTES.md). SQLite runs a batch synchronously, so one full batch is best there.
 */
export class CompletionBatcher {
  private queued: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly queue: string,
    private readonly fetchRequest: (n: number) => FetchRequest,
    private readonly shape: () => { maxBatch: number; maxInFlight: number } = () => ({
      maxBatch: 1000,
      maxInFlight: 1,
    }),
  ) {}

  complete(
    item: CompleteItem,
    wantNext: boolean,
  ): Promise<{ code: MoveCode; next?: JobRecord; finishedOn: number; rateLimitTtl: number }> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, wantNext, resolve, reject });
      this.schedule();
    });
  }

  /** Starts a batch in a microtask unless one is pending or the flight is full (its end starts the next). */
  private schedule(): void {
    if (this.scheduled || this.queued.length === 0 || this.inFlight >= this.shape().maxInFlight) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    const { maxBatch, maxInFlight } = this.shape();
    if (this.queued.length === 0 || this.inFlight >= maxInFlight) return;
    const batch = this.queued.splice(0, maxBatch);
    this.inFlight++;
    // More queued than one batch takes: the next may start now, alongside this one.
    this.schedule();
    try {
      const wanting = batch.filter((p) => p.wantNext).length;
      const now = Date.now();
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
        const rateLimitTtl = res.next?.rateLimitTtl ?? 0;
        p.resolve({ code, next: p.wantNext && code === 0 ? next.shift() : undefined, finishedOn: now, rateLimitTtl });
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
