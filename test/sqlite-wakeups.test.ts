import { describe, it } from 'vitest';
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
