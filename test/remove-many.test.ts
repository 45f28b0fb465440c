import { describe, expect, it } from 'vitest';
import { QueueEvents } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Job.remove is an admin call users make in bulk (thousands of stale jobs at once): each one must
// cost about one store round trip, or clearing a backlog takes minutes.
describe.each(stores)('removing jobs one by one on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('removes 4000 waiting and delayed jobs, all called at once, within 4 s', async () => {
    const { queue } = setup();
    const waiting = await queue.addBulk(Array.from({ length: 2000 }, (_, i) => ({ name: 'w', data: { i } })));
    const delayed = await queue.addBulk(
      Array.from({ length: 2000 }, (_, i) => ({ name: 'd', data: { i }, opts: { delay: 60_000 + i } })),
    );
    const started = Date.now();
    await Promise.all(delayed.map((job) => job.remove()));
    await Promise.all(waiting.map((job) => job.remove()));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
  }, 60_000);

  it('tells QueueEvents what each removed job was, and keeps its logs no longer', async () => {
    const { queue, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: { jobId: string; prev: string }[] = [];
    events.on('removed', (e) => seen.push(e as { jobId: string; prev: string }));
    const plain = await queue.add('plain', {});
    const urgent = await queue.add('urgent', {}, { priority: 3 });
    const later = await queue.add('later', {}, { delay: 60_000 });
    await plain.log('a line');
    await plain.remove();
    await urgent.remove();
    await later.remove();
    await until(() => seen.length === 3, 10_000, 'three removed events');
    expect(seen).toEqual([
      { jobId: plain.id, prev: 'waiting' },
      { jobId: urgent.id, prev: 'prioritized' },
      { jobId: later.id, prev: 'delayed' },
    ]);
    expect(await queue.getJobLogs(plain.id!)).toEqual({ logs: [], count: 0 });
    expect(await queue.getJob(plain.id!)).toBeUndefined();
  });

  it('refuses a job a worker holds, and removes a parent with its children', async () => {
    const { queue, worker } = setup();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const w = worker(async () => held);
    const busy = await queue.add('busy', {});
    await until(async () => (await busy.getState()) === 'active', 10_000, 'the job active');
    await expect(busy.remove()).rejects.toThrow(/locked/);
    release();
    await w.close();
    const parent = await queue.add('parent', {});
    const child = await queue.add('child', {}, { parent: { id: parent.id!, queue: queue.qualifiedName } });
    await parent.remove();
    expect(await queue.getJob(child.id!)).toBeUndefined();
    expect(await queue.getJob(parent.id!)).toBeUndefined();
  });
});
