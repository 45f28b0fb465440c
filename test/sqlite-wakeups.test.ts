import { describe, expect, it } from 'vitest';
import { Queue, Worker } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { queueName, stores } from './support/stores.js';

const sqlite = stores.find((s) => s.kind === 'sqlite')!;

describe('SQLite wake-ups in one process', () => {
  it('wakes a waiting worker when a job is added through the same file handle', async () => {
    const store = new SqliteStore(sqlite.connection().slice('sqlite:'.length));
    const queue = `bull:${queueName()}`;
    const stop = new AbortController();
    try {
      // Only the in-process notification can end this wait before the test times out: the same
      // handle's own commits never change its data_version.
      const woken = store.waitForWork(queue, 600_000, stop.signal);
      await store.addJobs(queue, [
        { name: 'x', data: '{}', opts: '{}', timestamp: Date.now(), delay: 0, priority: 0, lifo: false },
      ]);
      await woken;
    } finally {
      stop.abort();
      await store.close();
    }
  });

  it('does not wake waiters for a fetch that found nothing', async () => {
    const store = new SqliteStore(sqlite.connection().slice('sqlite:'.length));
    const queue = `bull:${queueName()}`;
    const stop = new AbortController();
    try {
      let woken = false;
      const waiting = store.waitForWork(queue, 600_000, stop.signal).then(() => {
        woken = true;
      });
      await store.fetchNext(queue, { tokens: ['t'], lockDuration: 1000, now: Date.now() });
      await new Promise((r) => setImmediate(r));
      if (woken) throw new Error('an empty fetch woke a waiter');
      stop.abort();
      await waiting;
    } finally {
      stop.abort();
      await store.close();
    }
  });
});

describe('SQLite wake-ups across reopened handles', () => {
  it('wakes a new worker at once after the queue and worker of the same file were closed and reopened', async () => {
    const connection = sqlite.connection();
    const name = queueName();
    const first = new Queue(name, { connection });
    const firstWorker = new Worker(name, async () => 'one', { connection });
    await first.add('a', {});
    await new Promise((resolve) => firstWorker.once('completed', resolve));
    await firstWorker.close();
    await first.close();

    const queue = new Queue(name, { connection });
    // drainDelay 60 s: only a wake-up, not the drain timeout, can start the job within the test's time.
    const worker = new Worker(name, async () => 'two', { connection, drainDelay: 60 });
    try {
      await worker.waitUntilReady();
      await new Promise((resolve) => worker.once('drained', resolve));
      const done = new Promise((resolve) => worker.once('completed', (_job, value) => resolve(value)));
      await queue.add('b', {});
      expect(await done).toBe('two');
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
