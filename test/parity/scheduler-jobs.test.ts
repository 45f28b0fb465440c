import { describe, expect, it } from 'vitest';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

/** How a job scheduler's current iteration is treated by the rest of the queue (as BullMQ). */
describe.each(stores)("a job scheduler's jobs on $kind", (store) => {
  const { setup } = useQueues(store);

  it('cannot be removed one by one while current: remove the scheduler instead', async () => {
    const { queue } = setup();
    const job = await queue.upsertJobScheduler('s', { every: 60_000 });
    const refusal = `Job ${job!.id} belongs to a job scheduler and cannot be removed directly. removeJob`;
    await expect(job!.remove()).rejects.toThrow(refusal);
    await expect(queue.remove(job!.id!)).rejects.toThrow(refusal);
    expect(await job!.getState()).toBe('waiting');
    // Removing the scheduler leaves a waiting iteration (as BullMQ), now an ordinary job.
    expect(await queue.removeJobScheduler('s')).toBe(true);
    expect(await job!.getState()).toBe('waiting');
    expect(await queue.remove(job!.id!)).toBe(1);
  });

  it('stays through drain and clean, which remove the other jobs', async () => {
    const { queue } = setup();
    const current = await queue.upsertJobScheduler('s', { every: 60_000 });
    const later = await queue.upsertJobScheduler('p', { pattern: '0 0 1 1 *' });
    await queue.add('plain', {});
    await queue.add('plain-later', {}, { delay: 60_000 });
    await queue.drain(true);
    expect((await queue.getWaiting()).map((j) => j.id)).toEqual([current!.id]);
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([later!.id]);

    await queue.add('plain', {});
    await queue.add('plain-later', {}, { delay: 60_000 });
    expect(await queue.clean(0, 100, 'wait')).toHaveLength(1);
    expect(await queue.clean(0, 100, 'delayed')).toHaveLength(1);
    expect((await queue.getWaiting()).map((j) => j.id)).toEqual([current!.id]);
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([later!.id]);
  });

  it('goes back to waiting however often it stalls, while its scheduler exists', async () => {
    const { queue, worker } = setup();
    const first = await queue.upsertJobScheduler('s', { every: 60_000 });
    const w = worker(null, { lockDuration: 200, stalledInterval: 100, maxStalledCount: 0 });
    const stalled: string[] = [];
    w.on('stalled', (id: string) => stalled.push(id));
    expect((await w.getNextJob('t1', { block: false }))?.id).toBe(first!.id);
    await w.startStalledCheckTimer();
    await until(() => stalled.length >= 1, 10_000, 'the first stall');
    expect((await w.getNextJob('t2', { block: false }))?.id).toBe(first!.id);
    await until(() => stalled.length >= 2, 10_000, 'the second stall');
    expect(await queue.getJobState(first!.id!)).toBe('waiting');
    expect((await queue.getJob(first!.id!))?.stalledCounter).toBe(2);
    // Without its scheduler it is an ordinary job: over maxStalledCount it fails (when a worker next takes it).
    await queue.removeJobScheduler('s');
    expect((await w.getNextJob('t3', { block: false }))?.id).toBe(first!.id);
    await until(() => stalled.length >= 3, 10_000, 'the third stall');
    await w.close();
    worker(async () => 'ran');
    await until(async () => (await queue.getJobState(first!.id!)) === 'failed', 10_000, 'the stall failure');
  });

  it('is left alone by an upsert while the queue is paused (as BullMQ), and a new iteration added', async () => {
    const { queue } = setup();
    await queue.pause();
    const first = await queue.upsertJobScheduler('s', { pattern: '0 0 1 1 *' });
    await first!.promote();
    const second = await queue.upsertJobScheduler('s', { pattern: '0 0 1 2 *' });
    expect((await queue.getWaiting()).map((j) => j.id)).toEqual([first!.id]);
    expect((await queue.getDelayed()).map((j) => j.id)).toEqual([second!.id]);
  });
});
