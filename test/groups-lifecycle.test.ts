import { describe, expect, it } from 'vitest';
import { DelayedError, FlowProducer, type Job, QueueEvents } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Groups (issue 22) through a job's other moves: delays, priority changes, drain, obliterate, flows.
describe.each(stores)('grouped jobs through their life on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('puts a delayed grouped job in its group when due', async () => {
    const { queue, worker } = setup();
    // 2 s: the first look must come before it is due, also on a loaded machine (150 ms was not enough).
    const later = await queue.add('later', {}, { group: { id: 'd' }, delay: 2000 });
    expect(await later.getState()).toBe('delayed');
    const w = worker(null);
    expect(await w.getNextJob('t0', { block: false })).toBeUndefined();
    await until(async () => (await w.getNextJob('t1', { block: false }))?.name === 'later', 15_000, 'the due job');
    expect(await queue.getGroupActiveCount('d')).toBe(1);
  });

  it('reorders a waiting grouped job with changePriority', async () => {
    const { queue, worker } = setup();
    await queue.add('first', {}, { group: { id: 'p' } });
    const second = await queue.add('second', {}, { group: { id: 'p', priority: 5 } });
    await second.changePriority({ priority: 0, lifo: true });
    const w = worker(null);
    const names = [];
    for (let i = 0; i < 2; i++) names.push((await w.getNextJob(`t${i}`, { block: false }))?.name);
    expect(names).toEqual(['second', 'first']);
  });

  it('frees the group slot of a job its processor delays', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(['one', 'two'].map((name) => ({ name, data: {}, opts: { group: { id: 'slot' } } })));
    const ran: string[] = [];
    worker(
      async (job: Job, token?: string) => {
        ran.push(job.name);
        if (job.name === 'one' && ran.filter((n) => n === 'one').length === 1) {
          await job.moveToDelayed(Date.now() + 200, token);
          throw new DelayedError();
        }
      },
      { concurrency: 2, group: { concurrency: 1 } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 2, 10_000, 'both completed');
    expect(ran).toEqual(['one', 'two', 'one']);
  });

  it('frees the group slot of a cancelled job, and takes a cancelled waiting job out of its group', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(['a', 'b', 'c'].map((name) => ({ name, data: {}, opts: { group: { id: 'cx' } } })));
    const w = worker(null, { group: { concurrency: 1 } });
    const a = await w.getNextJob('t0', { block: false });
    expect(a?.name).toBe('a');
    // The group is at its concurrency: nothing more until its slot is free.
    expect(await w.getNextJob('t1', { block: false })).toBeUndefined();
    const [, c] = await queue.getGroupJobs('cx');
    expect(c.name).toBe('c');
    expect(await queue.cancelJob(c.id!, 'not needed')).toBe(true);
    expect(await queue.cancelJob(a!.id!, 'stop')).toBe(true);
    expect(await queue.getGroupActiveCount('cx')).toBe(0);
    expect((await queue.getGroupJobs('cx')).map((j) => j.name)).toEqual(['b']);
    expect((await w.getNextJob('t2', { block: false }))?.name).toBe('b');
    expect(await w.getNextJob('t3', { block: false })).toBeUndefined();
    expect((await queue.getJob(c.id!))?.failedReason).toMatch(/not needed/);
  });

  it('waits while the queue is paused, grouped jobs included', async () => {
    const { queue, worker } = setup();
    await queue.pause();
    await queue.add('g', {}, { group: { id: 'q' } });
    const w = worker(null);
    expect(await w.getNextJob('t0', { block: false })).toBeUndefined();
    await queue.resume();
    expect((await w.getNextJob('t1', { block: false }))?.name).toBe('g');
  });

  it('drains and obliterates grouped jobs', async () => {
    const { queue } = setup();
    await queue.addBulk(['a', 'b', 'c'].map((id) => ({ name: id, data: {}, opts: { group: { id } } })));
    await queue.drain();
    expect(await queue.getGroupsJobsCount()).toBe(0);
    await queue.add('again', {}, { group: { id: 'a' } });
    await queue.pauseGroup('z');
    await queue.obliterate();
    expect(await queue.getGroupsCount()).toBe(0);
    expect(await queue.getGroupStatus('z')).toBeUndefined();
  });

  it('runs grouped children of a flow and completes the parent', async () => {
    const { queue, worker, connection, name } = setup();
    const flows = track(new FlowProducer({ connection }));
    await flows.add({
      name: 'parent',
      queueName: name,
      children: ['c1', 'c2', 'c3'].map((child) => ({
        name: child,
        queueName: name,
        opts: { group: { id: child === 'c3' ? 'other' : 'kids' } },
      })),
    });
    const order: string[] = [];
    worker(
      async (job) => {
        order.push(job.name);
      },
      { group: { concurrency: 1 } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 4, 10_000, 'the flow');
    expect(order[order.length - 1]).toBe('parent');
    expect(order.slice(0, 3).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('drains only once the grouped jobs are done too', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    let drained = 0;
    events.on('drained', () => drained++);
    await queue.addBulk(['x', 'y'].map((n) => ({ name: n, data: {}, opts: { group: { id: 'held' } } })));
    await queue.pauseGroup('held');
    await queue.add('plain', {});
    const w = worker(null);
    const plain = await w.getNextJob('t1', { block: false });
    await plain!.moveToCompleted('ok', 't1', false);
    await queue.resumeGroup('held');
    for (const t of ['t2', 't3']) {
      const job = await w.getNextJob(t, { block: false });
      await job!.moveToCompleted('ok', t, false);
    }
    await until(() => drained > 0, 10_000, 'drained');
    expect(drained).toBe(1);
  });
});
