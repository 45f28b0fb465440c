import { afterEach } from 'vitest';
import { type Job, Queue, type QueueOptions, Worker, type WorkerOptions } from '../../src/index.js';
import { queueName, type StoreFixture } from './stores.js';

/**
 * Per-test helpers for one store: queues and workers made here are closed after each test.
 * Call inside a `describe.each(stores)` body.
 */
export function useQueues(store: StoreFixture) {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });
  const track = <T extends { close(): Promise<void> }>(x: T): T => {
    open.push(x);
    return x;
  };
  return {
    track,
    /** A queue with a fresh name (and, on SQLite, a fresh file) plus a worker factory for it. */
    setup(qopts: QueueOptions = {}) {
      const connection = store.connection();
      const used = qopts.connection ?? connection;
      const name = queueName();
      const queue = track(new Queue(name, { ...qopts, connection: used }));
      const worker = <R = unknown>(
        processor: ((job: Job, token?: string, signal?: AbortSignal) => Promise<R>) | string | URL | null,
        wopts: WorkerOptions = {},
      ) => track(new Worker(name, processor, { connection: used, drainDelay: 1, ...wopts }));
      return { queue, worker, connection, name };
    },
  };
}
