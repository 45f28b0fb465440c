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

  /** Counts active jobs per group while a processor runs, keeping the highest seen. */
  function gauge() {
    const now = new Map<string, number>();
    const peak = new Map<string, number>();
    return {
      peak,
      async run(job: Job, ms: number) {
        const g = (job.opts.group as { id: string }).id;
        now.set(g, (now.get(g) ?? 0) + 1);
        peak.set(g, Math.max(peak.get(g) ?? 0, now.get(g) ?? 0));
        await new Promise((r) => setTimeout(r, ms));
        now.set(g, (now.get(g) ?? 0) - 1);
      },
    };
  }

  it('keeps group concurrency across two workers while other groups run beside', async () => {
    const { queue, worker } = setup();
    const g = gauge();
    await queue.addBulk(
      ['A', 'B'].flatMap((id) =>
        Array.from({ length: 6 }, (_, i) => ({ name: `${id}${i}`, data: {}, opts: { group: { id } } })),
      ),
    );
    const wopts = { concurrency: 4, group: { concurrency: 1 } };
    worker((job) => g.run(job, 30), wopts);
    worker((job) => g.run(job, 30), wopts);
    await until(async () => (await queue.getJobCounts('completed')).completed === 12, 15_000, 'all completed');
    expect(g.peak.get('A')).toBe(1);
    expect(g.peak.get('B')).toBe(1);
  });

  it("uses a group's own concurrency over the worker's", async () => {
    const { queue, worker } = setup();
    const g = gauge();
    await queue.setGroupConcurrency('wide', 3);
    expect(await queue.getGroupConcurrency('wide')).toBe(3);
    await queue.addBulk(
      Array.from({ length: 9 }, (_, i) => ({ name: `w${i}`, data: {}, opts: { group: { id: 'wide' } } })),
    );
    worker((job) => g.run(job, 80), { concurrency: 9, group: { concurrency: 1 } });
    await until(async () => (await queue.getJobCounts('completed')).completed === 9, 15_000, 'all completed');
    expect(g.peak.get('wide')).toBeGreaterThan(1);
    expect(g.peak.get('wide')).toBeLessThanOrEqual(3);
  });

  it('rate limits a group without holding back the others', async () => {
    const { queue, worker } = setup();
    const starts: Record<string, number[]> = { slow: [], free: [] };
    await queue.addBulk(
      ['slow', 'free'].flatMap((id) =>
        Array.from({ length: 6 }, (_, i) => ({ name: `${id}${i}`, data: {}, opts: { group: { id } } })),
      ),
    );
    const duration = 400;
    worker(
      async (job) => {
        starts[(job.opts.group as { id: string }).id].push(Date.now());
      },
      { concurrency: 4, group: { limit: { max: 2, duration } } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 12, 15_000, 'all completed');
    // Each window opens at its first start and lets two through.
    const slow = starts.slow;
    for (let i = 2; i < slow.length; i += 2) expect(slow[i] - slow[i - 2]).toBeGreaterThanOrEqual(duration - 50);
    expect(slow.length).toBe(6);
  });

  it('frees the slot of a job whose worker died (stalled recovery)', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(['s1', 's2'].map((name) => ({ name, data: {}, opts: { group: { id: 'solo' } } })));
    const w = worker(null, { lockDuration: 200, stalledInterval: 100, group: { concurrency: 1 } });
    const first = await w.getNextJob('dead-1', { block: false });
    expect(first?.name).toBe('s1');
    // The group's one slot is held: nothing else of it starts.
    expect(await w.getNextJob('t2', { block: false })).toBeUndefined();
    expect(await queue.getGroupActiveCount('solo')).toBe(1);
    await w.startStalledCheckTimer();
    await until(async () => (await queue.getJobState(first!.id as string)) === 'waiting', 10_000, 'the recovery');
    expect(await queue.getGroupActiveCount('solo')).toBe(0);
    // The stalled job goes first of its group again.
    expect((await w.getNextJob('t3', { block: false }))?.name).toBe('s1');
  });

  it('keeps group accounting through retries with backoff', async () => {
    const { queue, worker } = setup();
    const g = gauge();
    await queue.addBulk(
      Array.from({ length: 4 }, (_, i) => ({
        name: `r${i}`,
        data: {},
        opts: { group: { id: 'r' }, attempts: 2, backoff: { type: 'fixed', delay: 20 } },
      })),
    );
    const tried = new Set<string>();
    worker(
      async (job) => {
        await g.run(job, 10);
        if (!tried.has(job.name)) {
          tried.add(job.name);
          throw new Error('first try fails');
        }
      },
      { concurrency: 4, group: { concurrency: 1 } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 4, 15_000, 'all completed');
    expect(g.peak.get('r')).toBe(1);
    expect(await queue.getGroupActiveCount('r')).toBe(0);
  });
});
