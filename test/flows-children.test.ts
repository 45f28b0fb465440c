import { describe, expect, it } from 'vitest';
import { FlowProducer, Job, Queue, Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { queueName, stores, until } from './support/stores.js';

// Children leaving their parent, existing jobs joining a flow, and reading a parent's children:
// BullMQ's behaviour in our words.
describe.each(stores)('flow children on $kind', (store) => {
  const { track } = useQueues(store);

  function setup() {
    const connection = store.connection();
    const names = { parent: queueName('parent'), child: queueName('child') };
    const flow = track(new FlowProducer({ connection }));
    const parentQueue = track(new Queue(names.parent, { connection }));
    const childQueue = track(new Queue(names.child, { connection }));
    const worker = (name: string, fn: (job: Job) => Promise<unknown>) =>
      track(new Worker(name, fn, { connection, drainDelay: 1 }));
    const twoChildren = (parentQueueName = names.parent) =>
      flow.add({
        name: 'parent',
        queueName: parentQueueName,
        children: [
          { name: 'a', queueName: names.child, opts: { jobId: 'a' } },
          { name: 'b', queueName: names.child, opts: { jobId: 'b' } },
        ],
      });
    return { connection, names, flow, parentQueue, childQueue, worker, twoChildren };
  }

  it('moves the parent on when its last pending child is removed on failure (removeOnFail)', async () => {
    const { names, flow, parentQueue, worker } = setup();
    const tree = await flow.add({
      name: 'parent',
      queueName: names.parent,
      children: [
        { name: 'bad', queueName: names.child, opts: { removeOnFail: true } },
        { name: 'good', queueName: names.child },
      ],
    });
    worker(names.child, async (job) => {
      if (job.name === 'bad') throw new Error('no');
      return 'ok';
    });
    await until(async () => (await parentQueue.getJobState(tree.job.id!)) === 'waiting', 10_000, 'the parent');
    expect(await tree.job.getDependenciesCount()).toEqual({ processed: 1, unprocessed: 0, failed: 0, ignored: 0 });
  });

  it('clean deletes a parent of the same queue with its last pending child', async () => {
    const { names, flow, parentQueue } = setup();
    const tree = await flow.add({
      name: 'parent',
      queueName: names.parent,
      children: [
        { name: 'a', queueName: names.parent },
        { name: 'b', queueName: names.parent },
      ],
    });
    expect(await parentQueue.count()).toBe(3);
    await parentQueue.clean(0, 0, 'wait');
    expect(await parentQueue.count()).toBe(0);
    expect(await tree.job.getState()).toBe('unknown');
  });

  it('clean, drain and obliterate move a parent of another queue to waiting once no child is left', async () => {
    const { parentQueue, childQueue, twoChildren } = setup();
    const cleaned = await twoChildren();
    await childQueue.clean(0, 1, 'wait');
    expect(await cleaned.job.getState()).toBe('waiting-children');
    await childQueue.clean(0, 0, 'wait');
    expect(await cleaned.job.getState()).toBe('waiting');
    await parentQueue.drain();
    const drained = await twoChildren();
    await childQueue.drain();
    expect(await drained.job.getState()).toBe('waiting');
    await parentQueue.drain();
    const obliterated = await twoChildren();
    await childQueue.obliterate();
    expect(await obliterated.job.getState()).toBe('waiting');
  });

  it('removeChildDependency unlinks for good and rejects when the child or the parent is gone', async () => {
    const { names, flow, childQueue, twoChildren } = setup();
    const tree = await twoChildren();
    const [a, b] = tree.children!.map((c) => c.job);
    expect(await a.removeChildDependency()).toBe(true);
    expect((await childQueue.getJob('a'))?.parent).toBeUndefined();
    expect(await a.removeChildDependency()).toBe(false);
    await b.remove();
    await expect(b.removeChildDependency()).rejects.toThrow('Missing key for job b. removeChildDependency');
    const other = await flow.add({
      name: 'p2',
      queueName: names.parent,
      children: [{ name: 'c', queueName: names.child, opts: { jobId: 'c' } }],
    });
    await other.job.remove({ removeChildren: false });
    const c = other.children![0].job;
    await expect(c.removeChildDependency()).rejects.toThrow(
      `Missing key for parent job ${c.parentKey}. removeChildDependency`,
    );
  });

  it('a parent with pending children cannot complete, one with a failed child cannot wait for them', async () => {
    const { connection, names, flow, parentQueue } = setup();
    // A child added at run time (chaining flows); the parent is taken by hand while it is pending.
    const job = await parentQueue.add('manual', {}, { jobId: 'manual' });
    await flow.add({
      name: 'late',
      queueName: names.child,
      opts: { parent: { id: job.id!, queue: parentQueue.qualifiedName }, failParentOnFailure: true, jobId: 'late' },
    });
    const manual = track(new Worker(names.parent, null, { connection }));
    const active = (await manual.getNextJob('tok'))!;
    await expect(active.moveToCompleted('x', 'tok', false)).rejects.toThrow(
      'Job manual has pending dependencies. moveToFinished',
    );
    const childWorker = track(new Worker(names.child, null, { connection }));
    const child = (await childWorker.getNextJob('ctok'))!;
    expect(child.id).toBe('late');
    await child.moveToFailed(new Error('child broke'), 'ctok');
    expect((await parentQueue.getJob('manual'))?.deferredFailure).toBe(`child bull:${names.child}:late failed`);
    await expect(active.moveToWaitingChildren('tok')).rejects.toThrow(
      'Cannot complete job manual because it has at least one failed child. moveToWaitingChildren',
    );
  });

  it('links an existing job named as a child, and refuses one that has another parent', async () => {
    const { names, flow, parentQueue, childQueue, worker } = setup();
    await childQueue.add('done', {}, { jobId: 'done' });
    const w = worker(names.child, async () => 'v');
    await until(async () => (await childQueue.getJobState('done')) === 'completed', 10_000, 'the child');
    await w.close();
    const tree = await flow.add({
      name: 'parent',
      queueName: names.parent,
      children: [{ name: 'done', queueName: names.child, opts: { jobId: 'done' } }],
    });
    expect(await tree.job.getState()).toBe('waiting');
    expect(await tree.job.getChildrenValues()).toEqual({ [`bull:${names.child}:done`]: 'v' });
    const other = await parentQueue.add('other', {}, { jobId: 'other' });
    await expect(
      childQueue.add('done', {}, { jobId: 'done', parent: { id: other.id!, queue: parentQueue.qualifiedName } }),
    ).rejects.toThrow(`The parent job ${parentQueue.qualifiedName}:other cannot be replaced. addJob`);
  });

  it('deduplicates flow roots without children and refuses deduplication on nodes with children', async () => {
    const { names, flow } = setup();
    const opts = { deduplication: { id: 'one' }, delay: 60_000 };
    const trees = await Promise.all(
      [1, 2, 3].map((i) => flow.add({ name: `root-${i}`, queueName: names.parent, opts })),
    );
    expect(new Set(trees.map((t) => t.job.id)).size).toBe(1);
    await expect(
      flow.add({ name: 'r', queueName: names.parent, opts, children: [{ name: 'c', queueName: names.child }] }),
    ).rejects.toThrow('Deduplication options cannot be used on flow nodes with children');
  });

  it('addBulk leaves out a flow whose parent is missing and adds the others', async () => {
    const { names, flow, parentQueue } = setup();
    const [good, bad] = await flow.addBulk([
      { name: 'good', queueName: names.parent },
      { name: 'bad', queueName: names.parent, opts: { parent: { id: 'nope', queue: parentQueue.qualifiedName } } },
    ]);
    expect(await parentQueue.getJob(good.job.id!)).toBeDefined();
    expect(await parentQueue.getJob(bad.job.id!)).toBeUndefined();
  });

  it('pages a parent children with cursors and slices them with queue.getDependencies', async () => {
    const { names, flow, parentQueue } = setup();
    const tree = await flow.add({
      name: 'parent',
      queueName: names.parent,
      children: Array.from({ length: 25 }, (_, i) => ({ name: `c${i}`, queueName: names.child })),
    });
    const first = await tree.job.getDependencies({ unprocessed: { count: 20 } });
    expect(first.unprocessed).toHaveLength(20);
    expect(first.nextUnprocessedCursor).toBe(20);
    const second = await tree.job.getDependencies({ unprocessed: { cursor: first.nextUnprocessedCursor } });
    expect(second.unprocessed).toHaveLength(5);
    expect(second.nextUnprocessedCursor).toBe(0);
    expect(new Set([...first.unprocessed!, ...second.unprocessed!]).size).toBe(25);
    const slice = await parentQueue.getDependencies(tree.job.id!, 'pending', 0, 2);
    expect(slice.total).toBe(25);
    expect(slice.items).toHaveLength(3);
    expect(slice.jobs[0]).toHaveProperty('parentKey', `${parentQueue.qualifiedName}:${tree.job.id}`);
  });

  it('a retried child is pending in its parent again', async () => {
    const { names, flow, childQueue, worker } = setup();
    const tree = await flow.add({
      name: 'parent',
      queueName: names.parent,
      children: [{ name: 'c', queueName: names.child, opts: { jobId: 'c', ignoreDependencyOnFailure: true } }],
    });
    const w = worker(names.child, async () => {
      throw new Error('no');
    });
    await until(async () => (await childQueue.getJobState('c')) === 'failed', 10_000, 'the child to fail');
    await w.close();
    expect(await tree.job.getDependenciesCount({ ignored: true })).toEqual({ ignored: 1 });
    await (await childQueue.getJob('c'))!.retry('failed');
    expect(await tree.job.getDependenciesCount({ ignored: true, unprocessed: true })).toEqual({
      ignored: 0,
      unprocessed: 1,
    });
  });

  it('removes nothing of a tree that holds a locked job', async () => {
    const { connection, names, twoChildren } = setup();
    const tree = await twoChildren();
    const manual = track(new Worker(names.child, null, { connection }));
    expect((await manual.getNextJob('tok'))?.id).toBe('a');
    await expect(tree.job.remove()).rejects.toThrow(
      `Job ${tree.job.id} could not be removed because it is locked by another worker`,
    );
    expect(await tree.job.getState()).toBe('waiting-children');
    expect(await Job.fromId(manual, 'b')).toBeDefined();
  });
});
