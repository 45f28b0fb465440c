import { describe, expect, it } from 'vitest';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('job order and options on $kind', (store) => {
  const { setup } = useQueues(store);

  async function runOrder(add: (q: ReturnType<typeof setup>['queue']) => Promise<unknown>) {
    const { queue, worker } = setup();
    await add(queue);
    const total = await queue.count();
    const order: string[] = [];
    worker(async (job) => {
      order.push(job.name);
    });
    await until(() => order.length === total, 10_000, 'all jobs');
    return order;
  }

  it('runs plain jobs FIFO', async () => {
    const order = await runOrder((q) => q.addBulk(['a', 'b', 'c', 'd'].map((name) => ({ name, data: {} }))));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('runs delayed jobs due at the same moment in the order they were added', async () => {
    const timestamp = Date.now();
    const order = await runOrder(async (q) => {
      for (let i = 0; i < 43; i++) await q.add(`d${i}`, {}, { delay: 300, timestamp });
    });
    expect(order).toEqual(Array.from({ length: 43 }, (_, i) => `d${i}`));
  });

  it('runs lifo jobs before earlier plain ones, newest first', async () => {
    const order = await runOrder(async (q) => {
      await q.add('a', {});
      await q.add('b', {}, { lifo: true });
      await q.add('c', {}, { lifo: true });
    });
    expect(order).toEqual(['c', 'b', 'a']);
  });

  it('runs non-prioritised jobs first, then by priority, FIFO within one', async () => {
    const order = await runOrder((q) =>
      q.addBulk([
        { name: 'p3', data: {}, opts: { priority: 3 } },
        { name: 'p1a', data: {}, opts: { priority: 1 } },
        { name: 'plain', data: {} },
        { name: 'p1b', data: {}, opts: { priority: 1 } },
        { name: 'p2', data: {}, opts: { priority: 2 } },
      ]),
    );
    expect(order).toEqual(['plain', 'p1a', 'p1b', 'p2', 'p3']);
  });

  it('reports prioritized jobs and counts them apart', async () => {
    const { queue } = setup();
    const job = await queue.add('p', {}, { priority: 5 });
    await queue.add('plain', {});
    expect(await job.getState()).toBe('prioritized');
    expect(await queue.getJobCounts('waiting', 'prioritized')).toEqual({ waiting: 1, prioritized: 1 });
  });

  it('holds a delayed job until it is due', async () => {
    const { queue, worker } = setup();
    const added = Date.now();
    const job = await queue.add('later', {}, { delay: 300 });
    expect(await job.getState()).toBe('delayed');
    expect(job.delay).toBe(300);
    let startedAt = 0;
    worker(async () => {
      startedAt = Date.now();
    });
    await until(() => startedAt > 0, 10_000, 'the delayed job');
    expect(startedAt - added).toBeGreaterThanOrEqual(300);
  });

  it('keeps the first job when a custom jobId is added twice', async () => {
    const { queue } = setup();
    const first = await queue.add('x', { v: 1 }, { jobId: 'order-42' });
    const second = await queue.add('x', { v: 2 }, { jobId: 'order-42' });
    expect(second.id).toBe('order-42');
    expect(first.id).toBe('order-42');
    expect((await queue.getJob('order-42'))?.data).toEqual({ v: 1 });
    expect(await queue.count()).toBe(1);
  });

  it('applies defaultJobOptions under per-job options', async () => {
    const { queue } = setup({ defaultJobOptions: { attempts: 4, priority: 2 } });
    const job = await queue.add('x', {}, { priority: 7 });
    const read = await queue.getJob(job.id!);
    expect(read?.opts.attempts).toBe(4);
    expect(read?.priority).toBe(7);
  });

  it('keeps only N completed jobs with removeOnComplete: N', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(
      Array.from({ length: 10 }, (_, i) => ({ name: `j${i}`, data: {}, opts: { removeOnComplete: 3 } })),
    );
    let done = 0;
    const w = worker(async () => undefined);
    w.on('completed', () => done++);
    await until(() => done === 10, 10_000, 'ten completions');
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 3 });
    const kept = await Promise.all(['8', '9', '10'].map((id) => queue.getJob(id)));
    expect(kept.every((j) => j !== undefined)).toBe(true);
    expect(await queue.getJob('1')).toBeUndefined();
  });

  it('removes completed jobs with removeOnComplete: true and failed ones with the worker option', async () => {
    const { queue, worker } = setup();
    await queue.add('ok', {}, { removeOnComplete: true });
    await queue.add('bad', {});
    let finished = 0;
    const w = worker(
      async (job) => {
        if (job.name === 'bad') throw new Error('no');
      },
      { removeOnFail: true },
    );
    w.on('completed', () => finished++);
    w.on('failed', () => finished++);
    await until(() => finished === 2, 10_000, 'both jobs');
    expect(await queue.getJob('1')).toBeUndefined();
    expect(await queue.getJob('2')).toBeUndefined();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });
  });
});
