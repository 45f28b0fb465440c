import { describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Groups (issue 22, BullMQ Pro's API): FIFO within a group, groups round-robin, ungrouped jobs first.
describe.each(stores)('groups on $kind', (store) => {
  const { setup } = useQueues(store);

  /** Takes jobs one by one with a manual worker (no processor): the order the store hands them out. */
  async function takeAll(w: ReturnType<ReturnType<typeof setup>['worker']>, n: number): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let i = 0; i < n; i++) {
      const job = await w.getNextJob(`t${i}`, { block: false });
      if (!job) break;
      jobs.push(job);
    }
    return jobs;
  }

  it('runs a group FIFO and groups round-robin, ungrouped jobs first', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      ...['a1', 'a2', 'a3', 'a4'].map((name) => ({ name, data: {}, opts: { group: { id: 'A' } } })),
      { name: 'b1', data: {}, opts: { group: { id: 'B' } } },
      { name: 'plain', data: {} },
      { name: 'c1', data: {}, opts: { group: { id: 'C' } } },
      { name: 'b2', data: {}, opts: { group: { id: 'B' } } },
    ]);
    const w = worker(null);
    const order = (await takeAll(w, 10)).map((j) => j.name);
    expect(order).toEqual(['plain', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  });

  it("starts a one-job group's job before a huge group's next jobs", async () => {
    const { queue, worker } = setup();
    await queue.addBulk(
      Array.from({ length: 200 }, (_, i) => ({ name: `big${i}`, data: {}, opts: { group: { id: 'big' } } })),
    );
    const w = worker(null);
    const first = await takeAll(w, 3);
    await queue.add('small', {}, { group: { id: 'small' } });
    const next = await takeAll(w, 3);
    expect(first.map((j) => j.name)).toEqual(['big0', 'big1', 'big2']);
    // A new group joins the round at its end: behind at most one job of each other group.
    expect(next.map((j) => j.name)).toEqual(['big3', 'small', 'big4']);
  });

  it('orders a group by its priority, FIFO within one', async () => {
    const { queue, worker } = setup();
    await queue.add('low', {}, { group: { id: 'g', priority: 5 } });
    await queue.add('plain1', {}, { group: { id: 'g' } });
    await queue.add('high', {}, { group: { id: 'g', priority: 1 } });
    await queue.add('plain2', {}, { group: { id: 'g' } });
    const order = (await takeAll(worker(null), 10)).map((j) => j.name);
    expect(order).toEqual(['plain1', 'plain2', 'high', 'low']);
  });

  it('reports a grouped job waiting, keeps it out of the queue counts, and removes it', async () => {
    const { queue, worker } = setup();
    const job = await queue.add('g', { x: 1 }, { group: { id: 'g' } });
    await queue.add('plain', {});
    expect(await job.getState()).toBe('waiting');
    expect(await queue.getJobCounts('waiting', 'prioritized')).toEqual({ waiting: 1, prioritized: 0 });
    await job.remove();
    expect(await queue.getJob(job.id as string)).toBeUndefined();
    const order = (await takeAll(worker(null), 5)).map((j) => j.name);
    expect(order).toEqual(['plain']);
  });

  it('runs grouped jobs with a processor, retries included', async () => {
    const { queue, worker } = setup();
    const seen: string[] = [];
    await queue.addBulk(
      ['x1', 'x2', 'y1'].map((name) => ({ name, data: {}, opts: { group: { id: name[0] }, attempts: 2 } })),
    );
    const w = worker(async (job) => {
      seen.push(`${job.name}#${job.attemptsMade}`);
      if (job.name === 'x1' && job.attemptsMade === 0) throw new Error('once');
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 3, 10_000, 'three completed');
    expect(seen).toContain('x1#1');
    expect(seen.length).toBe(4);
    await w.close();
  });

  it('refuses priority or lifo beside a group', async () => {
    const { queue } = setup();
    await expect(queue.add('p', {}, { group: { id: 'g' }, priority: 2 })).rejects.toThrow(/group.priority/);
    await expect(queue.add('l', {}, { group: { id: 'g' }, lifo: true })).rejects.toThrow(/lifo/);
  });
});
