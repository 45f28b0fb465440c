import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job, Queue, WaitingChildrenError, Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { queueName, stores, until } from './support/stores.js';

describe.each(stores)('flows on $kind', (store) => {
  const { track } = useQueues(store);

  function setup() {
    const connection = store.connection();
    const names = { top: queueName('top'), mid: queueName('mid'), leaf: queueName('leaf') };
    const flow = track(new FlowProducer({ connection }));
    const queue = (name: string) => track(new Queue(name, { connection }));
    const worker = (name: string, fn: (job: Job, token?: string) => Promise<unknown>, opts = {}) =>
      track(new Worker(name, fn, { connection, drainDelay: 1, ...opts }));
    return { connection, names, flow, queue, worker };
  }

  it('runs a three-level flow across queues bottom-up and reads it back with getFlow', async () => {
    const { names, flow, queue, worker } = setup();
    const tree = await flow.add({
      name: 'root',
      queueName: names.top,
      data: { level: 0 },
      children: [
        {
          name: 'mid',
          queueName: names.mid,
          data: { level: 1 },
          children: [
            { name: 'leaf-a', queueName: names.leaf, data: { v: 1 } },
            { name: 'leaf-b', queueName: names.leaf, data: { v: 2 } },
          ],
        },
      ],
    });
    expect(tree.job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await tree.job.getState()).toBe('waiting-children');
    const order: string[] = [];
    const record = async (job: Job) => {
      order.push(job.name);
      const values = await job.getChildrenValues();
      return Object.values(values).reduce((a: number, b) => a + (b as number), job.data.v ?? 0);
    };
    worker(names.leaf, record);
    worker(names.mid, record);
    const top = worker(names.top, record);
    const done = new Promise<unknown>((resolve) => top.once('completed', (_j, result) => resolve(result)));
    expect(await done).toBe(3);
    expect(order.slice(2)).toEqual(['mid', 'root']);
    const read = await flow.getFlow({ id: tree.job.id!, queueName: names.top });
    expect(read?.job.name).toBe('root');
    expect(read?.children?.[0].job.name).toBe('mid');
    expect(read?.children?.[0].children?.map((c) => c.job.name).sort()).toEqual(['leaf-a', 'leaf-b']);
    const shallow = await flow.getFlow({ id: tree.job.id!, queueName: names.top, depth: 1 });
    expect(shallow?.children).toBeUndefined();
    expect(await queue(names.top).getJobState(tree.job.id!)).toBe('completed');
  });

  it('stores nothing of a flow with one bad node', async () => {
    const { names, flow, queue } = setup();
    await expect(
      flow.add({
        name: 'root',
        queueName: names.top,
        children: [
          { name: 'ok', queueName: names.leaf },
          { name: 'bad', queueName: names.leaf, opts: { priority: -1 } },
        ],
      }),
    ).rejects.toThrow('Priority should be between 0 and 2097151');
    await expect(
      flow.add({
        name: 'root',
        queueName: names.top,
        opts: { parent: { id: 'missing', queue: `bull:${names.mid}` } },
        children: [{ name: 'ok', queueName: names.leaf }],
      }),
    ).rejects.toThrow(/Missing key for parent job/);
    expect(await queue(names.top).count()).toBe(0);
    expect(await queue(names.leaf).count()).toBe(0);
  });

  it('rejects incompatible failure options', async () => {
    const { names, flow } = setup();
    await expect(
      flow.add({
        name: 'root',
        queueName: names.top,
        children: [
          { name: 'c', queueName: names.leaf, opts: { failParentOnFailure: true, ignoreDependencyOnFailure: true } },
        ],
      }),
    ).rejects.toThrow(/cannot be used together/);
  });

  async function failingChild(policy: Record<string, boolean>) {
    const ctx = setup();
    const tree = await ctx.flow.add({
      name: 'parent',
      queueName: ctx.names.top,
      children: [
        { name: 'bad', queueName: ctx.names.leaf, opts: { jobId: 'bad', ...policy } },
        { name: 'good', queueName: ctx.names.leaf, opts: { jobId: 'good' } },
      ],
    });
    const leafWorker = ctx.worker(ctx.names.leaf, async (job) => {
      if (job.name === 'bad') throw new Error('child broke');
      return 'fine';
    });
    let leafDone = 0;
    leafWorker.on('completed', () => leafDone++);
    leafWorker.on('failed', () => leafDone++);
    await until(() => leafDone === 2, 10_000, 'both children');
    return { ...ctx, parentId: tree.job.id!, top: ctx.queue(ctx.names.top) };
  }

  it('fails the parent with failParentOnFailure when a worker takes it, without running it', async () => {
    const { top, parentId, names, worker } = await failingChild({ failParentOnFailure: true });
    expect(await top.getJobState(parentId)).toBe('waiting');
    let ran = false;
    const topWorker = worker(names.top, async () => {
      ran = true;
    });
    const failed = new Promise<[Job | undefined, Error]>((resolve) =>
      topWorker.once('failed', (j, e) => resolve([j, e])),
    );
    const [job, err] = await failed;
    expect(ran).toBe(false);
    expect(job?.id).toBe(parentId);
    expect(err.name).toBe('UnrecoverableError');
    const parent = await top.getJob(parentId);
    expect(await top.getJobState(parentId)).toBe('failed');
    expect(parent?.failedReason).toBe(`child bull:${names.leaf}:bad failed`);
    expect(await parent?.getDependenciesCount()).toEqual({ processed: 1, unprocessed: 0, failed: 1, ignored: 0 });
    expect((await parent?.getDependencies())?.failed).toEqual([`bull:${names.leaf}:bad`]);
  });

  it('runs the parent at once with continueParentOnFailure', async () => {
    const { top, parentId, names, worker } = await failingChild({ continueParentOnFailure: true });
    const seen: unknown[] = [];
    worker(names.top, async (job) => {
      seen.push(await job.getFailedChildrenValues());
      return 'went on';
    });
    await until(async () => (await top.getJobState(parentId)) === 'completed', 10_000, 'the parent to run');
    expect(seen[0]).toEqual({ [`bull:${names.leaf}:bad`]: 'child broke' });
  });

  it('releases the parent with ignoreDependencyOnFailure and records the ignored failure', async () => {
    const { top, parentId, names } = await failingChild({ ignoreDependencyOnFailure: true });
    await until(async () => (await top.getJobState(parentId)) === 'waiting', 10_000, 'the parent to be released');
    const parent = (await top.getJob(parentId))!;
    expect(await parent.getIgnoredChildrenFailures()).toEqual({ [`bull:${names.leaf}:bad`]: 'child broke' });
    expect(await parent.getChildrenValues()).toEqual({ [`bull:${names.leaf}:good`]: 'fine' });
  });

  it('releases the parent with removeDependencyOnFailure, forgetting the child', async () => {
    const { top, parentId } = await failingChild({ removeDependencyOnFailure: true });
    await until(async () => (await top.getJobState(parentId)) === 'waiting', 10_000, 'the parent to be released');
    const parent = (await top.getJob(parentId))!;
    expect(await parent.getDependenciesCount()).toEqual({ processed: 1, unprocessed: 0, failed: 0, ignored: 0 });
  });

  it('keeps the parent waiting when a child fails with no policy', async () => {
    const { top, parentId, names } = await failingChild({});
    expect(await top.getJobState(parentId)).toBe('waiting-children');
    const parent = (await top.getJob(parentId))!;
    expect((await parent.getDependencies()).unprocessed).toEqual([`bull:${names.leaf}:bad`]);
  });

  it('chains a flow onto a running job, which waits for the new subtree', async () => {
    const { names, flow, queue, worker } = setup();
    const top = queue(names.top);
    await top.add('step-parent', { step: 'fan-out' });
    let childResults: Record<string, unknown> = {};
    const w = worker(names.top, async (job, token) => {
      if (job.data.step === 'fan-out') {
        await flow.add({
          name: 'sub-root',
          queueName: names.mid,
          opts: { parent: { id: job.id!, queue: job.queueQualifiedName } },
          children: [{ name: 'sub-leaf', queueName: names.leaf, data: { v: 5 } }],
        });
        await job.updateData({ step: 'collect' });
        if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
      }
      childResults = await job.getChildrenValues();
      return 'all done';
    });
    worker(names.leaf, async (job) => job.data.v);
    worker(names.mid, async (job) => Object.values(await job.getChildrenValues())[0]);
    await new Promise((resolve) => w.once('completed', resolve));
    expect(Object.values(childResults)).toEqual([5]);
  });

  it('releases the parent when a pending child is removed, and removes a whole tree with its root', async () => {
    const { names, flow, queue } = setup();
    const top = queue(names.top);
    const leaves = queue(names.leaf);
    const tree = await flow.add({
      name: 'root',
      queueName: names.top,
      children: [{ name: 'only', queueName: names.leaf, opts: { jobId: 'only' } }],
    });
    await leaves.remove('only');
    expect(await top.getJobState(tree.job.id!)).toBe('waiting');
    const second = await flow.add({
      name: 'root',
      queueName: names.top,
      children: [
        {
          name: 'mid',
          queueName: names.mid,
          opts: { jobId: 'mid' },
          children: [{ name: 'leaf', queueName: names.leaf, opts: { jobId: 'deep' } }],
        },
      ],
    });
    expect(await top.remove(second.job.id!)).toBe(1);
    expect(await queue(names.mid).getJob('mid')).toBeUndefined();
    expect(await leaves.getJob('deep')).toBeUndefined();
  });

  it('adds flows in bulk with delayed and prioritized children, under a new or an existing parent', async () => {
    const { names, flow, queue, worker } = setup();
    const q = queue(names.leaf);
    const child = (f: number, c: number, opts = {}) => ({
      name: `c${c}`,
      queueName: names.leaf,
      data: { f, c },
      opts: { jobId: `f${f}-c${c}`, ...opts },
    });
    const added = await flow.addBulk(
      [0, 1].map((f) => ({
        name: 'parent',
        queueName: names.top,
        data: { f },
        opts: { jobId: `p${f}` },
        children: [child(f, 0, { delay: 60_000 }), child(f, 1, { priority: 3 }), child(f, 2)],
      })),
    );
    expect(added.map((n) => n.job.id)).toEqual(['p0', 'p1']);
    expect(await q.getJobCounts('delayed', 'prioritized', 'waiting')).toEqual({
      delayed: 2,
      prioritized: 2,
      waiting: 2,
    });
    expect(await queue(names.top).getJobCounts('waiting-children')).toEqual({ 'waiting-children': 2 });
    const deps = await added[1].job.getDependencies();
    expect(deps.unprocessed?.map((k) => k.slice(k.lastIndexOf(':') + 1)).sort()).toEqual(['f1-c0', 'f1-c1', 'f1-c2']);
    // A flow under an existing parent; then the same ids again: duplicates, nothing new linked.
    const late = {
      ...child(0, 3),
      opts: { jobId: 'f0-c3', parent: { id: 'p0', queue: `bull:${names.top}` } },
      children: [child(0, 4)],
    };
    await flow.add(late);
    await flow.add(late);
    expect(await added[0].job.getDependenciesCount()).toMatchObject({ unprocessed: 4 });
    await expect(
      flow.add({ ...late, opts: { jobId: 'orphan', parent: { id: 'nope', queue: `bull:${names.top}` } } }),
    ).rejects.toThrow();
    expect(await q.getJob('orphan')).toBeUndefined();
    expect(await q.getJobState('f0-c3')).toBe('waiting-children');
    await q.promoteJobs();
    worker(names.leaf, async () => 'ok');
    const top = worker(names.top, async (job) => Object.keys(await job.getChildrenValues()).length);
    const results = new Map<string, unknown>();
    top.on('completed', (job, result) => results.set(job.id!, result));
    await until(() => results.size === 2);
    expect(Object.fromEntries(results)).toEqual({ p0: 4, p1: 3 });
  });
});
