import { describe, expect, it } from 'vitest';
import { Queue, Worker } from '../src/index.js';
import { queueName, until } from './support/stores.js';

describe('sqlite::memory:', () => {
  it('shares one in-memory database between the queues and workers of a process', async () => {
    const name = queueName();
    const queue = new Queue(name, { connection: 'sqlite::memory:' });
    const worker = new Worker(name, async (job) => job.data.n + 1, { connection: 'sqlite::memory:' });
    try {
      await queue.add('x', { n: 41 });
      await until(async () => (await queue.getJobState('1')) === 'completed', 10_000, 'the job');
      expect((await queue.getJob('1'))?.returnvalue).toBe(42);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
