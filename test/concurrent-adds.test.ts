import { describe, expect, it } from 'vitest';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

// Adds made at the same time share store calls (src/store/add-batcher.ts); each caller must still
// get what its own call would have given, in the order the calls were made.
describe.each(stores)('adds made at the same time on $kind', (store) => {
  const { setup } = useQueues(store);

  it('gives each caller its own job, with ids and waiting order in call order', async () => {
    const { queue } = setup();
    const jobs = await Promise.all(Array.from({ length: 200 }, (_, i) => queue.add(`j${i}`, { i })));
    expect(jobs.map((j) => j.data.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const ids = jobs.map((j) => Number(j.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(200);
    const stored = await queue.getJob(jobs[137].id!);
    expect(stored?.name).toBe('j137');
    expect(stored?.data).toEqual({ i: 137 });
    const waiting = await queue.getWaiting(0, -1);
    expect(waiting.map((j) => j.name)).toEqual(Array.from({ length: 200 }, (_, i) => `j${i}`));
  });

  it('keeps an addBulk among them whole, in its place', async () => {
    const { queue } = setup();
    const [a, bulk, b] = await Promise.all([
      queue.add('a', {}),
      queue.addBulk([
        { name: 'b1', data: {} },
        { name: 'b2', data: {} },
      ]),
      queue.add('c', {}),
    ]);
    expect([a.name, ...bulk.map((j) => j.name), b.name]).toEqual(['a', 'b1', 'b2', 'c']);
    expect((await queue.getWaiting(0, -1)).map((j) => j.name)).toEqual(['a', 'b1', 'b2', 'c']);
  });

  it('fails only the add whose parent is missing', async () => {
    const { queue } = setup();
    const results = await Promise.allSettled([
      queue.add('before', {}),
      queue.add('orphan', {}, { parent: { id: 'no-such-parent', queue: queue.qualifiedName } }),
      queue.add('after', {}),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/no-such-parent/);
    expect((await queue.getWaiting(0, -1)).map((j) => j.name).sort()).toEqual(['after', 'before']);
  });

  it('stores one job for the same custom id or deduplication id added at once', async () => {
    const { queue } = setup();
    const same = await Promise.all([1, 2, 3].map((n) => queue.add('same', { n }, { jobId: 'fixed' })));
    expect(same.map((j) => j.id)).toEqual(['fixed', 'fixed', 'fixed']);
    expect((await queue.getJob('fixed'))?.data).toEqual({ n: 1 });
    const dedup = await Promise.all([1, 2, 3].map((n) => queue.add('d', { n }, { deduplication: { id: 'k' } })));
    expect(new Set(dedup.map((j) => j.id)).size).toBe(1);
    expect(await queue.getWaitingCount()).toBe(2);
  });

  it('keeps an existing job, and the first of an id repeated, in one addBulk of custom ids', async () => {
    const { queue } = setup();
    await queue.add('old', { n: 0 }, { jobId: 'old' });
    const jobs = await queue.addBulk([
      { name: 'a', data: { n: 1 }, opts: { jobId: 'x' } },
      { name: 'b', data: { n: 2 }, opts: { jobId: 'old' } },
      { name: 'c', data: { n: 3 }, opts: { jobId: 'x' } },
      { name: 'd', data: { n: 4 }, opts: { jobId: 'y' } },
    ]);
    expect(jobs.map((j) => j.id)).toEqual(['x', 'old', 'x', 'y']);
    expect((await queue.getJob('x'))?.data).toEqual({ n: 1 });
    expect((await queue.getJob('old'))?.data).toEqual({ n: 0 });
    expect((await queue.getWaiting(0, -1)).map((j) => j.name)).toEqual(['old', 'a', 'd']);
  });
});
