import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Batches with groups, minSize and timeout (issue 23, BullMQ Pro's `batch.groupAffinity`, `minSize`, `timeout`).
describe.each(stores)('batches with groups and minSize on $kind', (store) => {
  const { setup } = useQueues(store);

  const grouped = (name: string, group: string) => ({ name, data: {}, opts: { group: { id: group } } });

  it('mixes groups in a batch by default, ungrouped jobs first', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      grouped('a1', 'A'),
      grouped('a2', 'A'),
      grouped('b1', 'B'),
      { name: 'p1', data: {} },
      grouped('a3', 'A'),
      { name: 'p2', data: {} },
    ]);
    const batches: string[][] = [];
    worker(async (job) => void batches.push(job.getBatch().map((j: Job) => j.name)), { batch: { size: 10 } });
    await until(async () => (await queue.getJobCounts('completed')).completed === 6);
    expect(batches).toEqual([['p1', 'p2', 'a1', 'b1', 'a2', 'a3']]);
  });

  it('with groupAffinity takes ungrouped jobs first, then one group per batch, round-robin', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      grouped('a1', 'A'),
      grouped('a2', 'A'),
      grouped('b1', 'B'),
      { name: 'p1', data: {} },
      grouped('a3', 'A'),
      grouped('c1', 'C'),
      { name: 'p2', data: {} },
    ]);
    const batches: string[][] = [];
    worker(async (job) => void batches.push(job.getBatch().map((j: Job) => j.name)), {
      batch: { size: 2, groupAffinity: true },
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 7);
    // A served group goes last: after A's first batch come B and C, then A's rest.
    expect(batches).toEqual([['p1', 'p2'], ['a1', 'a2'], ['b1'], ['c1'], ['a3']]);
  });

  it("with groupAffinity gives a short batch at the group's concurrency, never another group's jobs", async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => grouped(`a${i}`, 'A')));
    const sizes: number[] = [];
    worker(async (job) => void sizes.push(job.getBatch().length), {
      batch: { size: 10, groupAffinity: true },
      group: { concurrency: 2 },
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 5);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('waits for minSize jobs, and past the timeout takes what is ready', async () => {
    const { queue, worker } = setup();
    const sizes: number[] = [];
    const w = worker(async (job) => void sizes.push(job.getBatch().length), {
      batch: { size: 10, minSize: 5, timeout: 4000 },
    });
    await w.waitUntilReady();
    await queue.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: `j${i}`, data: {} })));
    await sleep(300);
    expect(sizes).toEqual([]); // 3 of 5: the worker waits
    await queue.addBulk(Array.from({ length: 2 }, (_, i) => ({ name: `k${i}`, data: {} })));
    await until(() => sizes.length === 1, 3000, 'the batch of 5 (before its timeout)');
    await queue.addBulk(Array.from({ length: 2 }, (_, i) => ({ name: `m${i}`, data: {} })));
    await until(() => sizes.length === 2, 15_000, 'the short batch after the timeout');
    expect(sizes).toEqual([5, 2]);
    expect((await queue.getJobCounts('completed')).completed).toBe(7);
  });

  it('with groupAffinity applies minSize to the next group in turn', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      grouped('a1', 'A'),
      grouped('a2', 'A'),
      ...['b1', 'b2', 'b3', 'b4'].map((n) => grouped(n, 'B')),
    ]);
    const batches: string[][] = [];
    const w = worker(async (job) => void batches.push(job.getBatch().map((j: Job) => j.name)), {
      batch: { size: 10, minSize: 3, groupAffinity: true },
    });
    await w.waitUntilReady();
    await sleep(300);
    expect(batches).toEqual([]); // A, next in turn, has 2 of 3
    await queue.add('a3', {}, { group: { id: 'A' } });
    await until(async () => (await queue.getJobCounts('completed')).completed === 7);
    expect(batches).toEqual([
      ['a1', 'a2', 'a3'],
      ['b1', 'b2', 'b3', 'b4'],
    ]);
  });

  it("with groupAffinity takes the group's short batch once the timeout ran out", async () => {
    const { queue, worker } = setup();
    await queue.addBulk([grouped('a1', 'A'), grouped('a2', 'A')]);
    const batches: string[][] = [];
    const start = Date.now();
    let took = 0;
    const w = worker(
      async (job) => {
        took = Date.now() - start;
        batches.push(job.getBatch().map((j: Job) => j.name));
      },
      { batch: { size: 10, minSize: 3, timeout: 1500, groupAffinity: true } },
    );
    await w.waitUntilReady();
    await sleep(500);
    expect(batches).toEqual([]); // A has 2 of 3: the worker waits
    await until(() => batches.length === 1, 10_000, "A's short batch after the timeout");
    expect(batches).toEqual([['a1', 'a2']]);
    expect(took).toBeGreaterThanOrEqual(1500);
  });

  it('ignores minSize without groupAffinity once groups have jobs ready (as BullMQ Pro)', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([grouped('a1', 'A'), grouped('b1', 'B')]);
    const batches: string[][] = [];
    worker(async (job) => void batches.push(job.getBatch().map((j: Job) => j.name)), {
      batch: { size: 10, minSize: 5 },
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 2, 5000);
    expect(batches).toEqual([['a1', 'b1']]);
  });
});
