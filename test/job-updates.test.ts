import { describe, expect, it } from 'vitest';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

// As BullMQ's job.ts: updateProgress and updateData set the Job object's field before the store
// write, so a processor that does not await the call reads back what it set.
describe.each(stores)('job.updateProgress and job.updateData on $kind', (store) => {
  const { setup } = useQueues(store);

  it('set progress and data on the Job at the call, before the write is done', async () => {
    const { queue } = setup();
    const job = await queue.add('x', { v: 1 });
    const progress = job.updateProgress({ step: 2 });
    const data = job.updateData({ v: 2 });
    expect(job.progress).toEqual({ step: 2 });
    expect(job.data).toEqual({ v: 2 });
    await Promise.all([progress, data]);
    const stored = await queue.getJob(job.id!);
    expect(stored?.progress).toEqual({ step: 2 });
    expect(stored?.data).toEqual({ v: 2 });
  });

  it('lets a processor read back what it set without awaiting', async () => {
    const { queue, worker } = setup();
    await queue.add('x', { v: 1 });
    const w = worker(async (job) => {
      const writes = [job.updateProgress(50), job.updateData({ v: 9 })];
      const seen = { progress: job.progress, data: job.data };
      await Promise.all(writes);
      return seen;
    });
    const [, result] = await new Promise<[unknown, unknown]>((resolve) =>
      w.on('completed', (job, value) => resolve([job, value])),
    );
    expect(result).toEqual({ progress: 50, data: { v: 9 } });
  });

  it('keeps the value set when the write is refused, and rejects', async () => {
    const { queue } = setup();
    const job = await queue.add('x', { v: 1 });
    await job.remove();
    await expect(job.updateProgress(7)).rejects.toThrow(`Missing key for job ${job.id}. updateProgress`);
    await expect(job.updateData({ v: 3 })).rejects.toThrow(`Missing key for job ${job.id}. updateData`);
    expect(job.progress).toBe(7);
    expect(job.data).toEqual({ v: 3 });
  });
});
