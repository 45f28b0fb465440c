import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job, QueueEvents } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('locks and stalled jobs on $kind', (store) => {
  const { setup, track } = useQueues(store);
  const short = { lockDuration: 200, stalledInterval: 100 };

  it('recovers a lapsed lock; past maxStalledCount the next worker to take the job fails it unrun', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const globalFailures: string[] = [];
    events.on('failed', ({ failedReason }) => globalFailures.push(failedReason));
    await queue.add('x', {});
    const w = worker(null, short);
    const stalled: string[] = [];
    w.on('stalled', (id: string) => stalled.push(id));
    const first = await w.getNextJob('token-1', { block: false });
    expect(first?.id).toBe('1');
    await w.startStalledCheckTimer();
    await until(async () => (await queue.getJobState('1')) === 'waiting', 10_000, 'the first recovery');
    // The store moved the job; the worker tells of it once the checker's answer arrives.
    await until(() => stalled.length > 0, 10_000, 'the stalled event');
    expect(stalled[0]).toBe('1');
    expect((await queue.getJob('1'))?.stalledCounter).toBe(1);
    await expect(first!.moveToCompleted('late', 'token-1', false)).rejects.toThrow(/Missing lock for job 1/);
    const second = await w.getNextJob('token-2', { block: false });
    expect(second?.id).toBe('1');
    expect(second?.attemptsStarted).toBe(2);
    // Its second stall is over the limit (1): back to waiting, marked to fail, as BullMQ 6 does.
    await until(async () => (await queue.getJob('1'))?.stalledCounter === 2, 10_000, 'the second stall');
    expect(await queue.getJobState('1')).toBe('waiting');
    expect((await queue.getJob('1'))?.deferredFailure).toBe('job stalled more than allowable limit');
    await w.close();

    let ran = 0;
    const processing = worker(async () => {
      ran++;
    }, short);
    const [job, err, prev] = await new Promise<[Job | undefined, Error, string]>((resolve) =>
      processing.once('failed', (j, e, p) => resolve([j, e, p])),
    );
    expect(ran).toBe(0);
    expect(err.message).toBe('job stalled more than allowable limit');
    expect(prev).toBe('active');
    expect(job).toMatchObject({ id: '1', attemptsStarted: 3, attemptsMade: 1, stalledCounter: 2 });
    const failed = await queue.getJob('1');
    expect(await failed?.getState()).toBe('failed');
    expect(failed?.failedReason).toBe('job stalled more than allowable limit');
    expect(failed?.deferredFailure).toBeUndefined();
    expect(failed?.returnvalue).toBeNull();
    await until(() => globalFailures.length > 0, 10_000, 'the QueueEvents failure');
    expect(globalFailures).toEqual(['job stalled more than allowable limit']);
  });

  it('fails a flow child that stalled too often through the usual path: its parent policy applies', async () => {
    const { queue, worker, connection, name } = setup();
    const flow = track(new FlowProducer({ connection }));
    const tree = await flow.add({
      name: 'parent',
      queueName: name,
      children: [{ name: 'child', queueName: name, opts: { failParentOnFailure: true } }],
    });
    const childId = tree.children![0].job.id!;
    const w = worker(null, { ...short, maxStalledCount: 0 });
    expect((await w.getNextJob('gone', { block: false }))?.id).toBe(childId);
    await w.startStalledCheckTimer();
    await until(async () => (await queue.getJob(childId))?.deferredFailure !== undefined, 10_000, 'the mark');
    await w.close();
    worker(async () => 'never', short);
    await until(async () => (await queue.getJobState(childId)) === 'failed', 10_000, 'the child failure');
    await until(async () => (await tree.job.getState()) === 'failed', 10_000, 'the parent failure');
  });

  it("applies the job's own removeOnFail when the worker fails a job that stalled too often", async () => {
    const { queue, worker } = setup();
    await queue.add('gone', {}, { removeOnFail: true });
    await queue.add('kept', {});
    const w = worker(null, { ...short, maxStalledCount: 0 });
    expect((await w.getNextJob('a', { block: false }))?.id).toBe('1');
    expect((await w.getNextJob('b', { block: false }))?.id).toBe('2');
    await w.startStalledCheckTimer();
    await until(async () => (await queue.getJob('2'))?.deferredFailure !== undefined, 10_000, 'the marks');
    await w.close();
    worker(async () => 'never', short);
    await until(async () => (await queue.getJobState('2')) === 'failed', 10_000, 'the failure');
    await until(async () => (await queue.getJob('1')) === undefined, 10_000, 'the removal');
  });

  it('recovers a stalled job once when two workers run the checker', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    let stalledEvents = 0;
    events.on('stalled', () => stalledEvents++);
    await queue.add('x', {});
    const a = worker(null, { ...short, maxStalledCount: 5 });
    const b = worker(null, { ...short, maxStalledCount: 5 });
    expect(await a.getNextJob('held', { block: false })).toBeDefined();
    await Promise.all([a.startStalledCheckTimer(), b.startStalledCheckTimer()]);
    await until(async () => (await queue.getJobState('1')) === 'waiting', 10_000, 'recovery');
    await until(() => stalledEvents === 1, 10_000, 'the stalled event');
    // Several more rounds of both checkers: a waiting job is not recovered again.
    await new Promise((r) => setTimeout(r, 400));
    expect(stalledEvents).toBe(1);
    expect((await queue.getJob('1'))?.stalledCounter).toBe(1);
  });

  it('does not let a processor that lost its lock complete the job', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    let completedEvents = 0;
    events.on('completed', () => completedEvents++);
    await queue.add('slow', {});
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = worker(
      async () => {
        await gate;
        return 'from the old owner';
      },
      { ...short, skipLockRenewal: true, skipStalledCheck: true },
    );
    const errors: Error[] = [];
    slow.on('error', (err) => errors.push(err));
    await until(async () => (await queue.getJobState('1')) === 'active', 10_000, 'the slow start');
    const rescuer = worker(null, { ...short, maxStalledCount: 3 });
    await rescuer.startStalledCheckTimer();
    await until(async () => (await queue.getJobState('1')) === 'waiting', 10_000, 'recovery');
    const taken = await rescuer.getNextJob('rescuer', { block: false });
    expect(taken?.id).toBe('1');
    release();
    await until(() => errors.length > 0, 10_000, 'the refused completion');
    expect(await queue.getJobState('1')).toBe('active');
    await taken!.moveToCompleted('from the rescuer', 'rescuer', false);
    await until(() => completedEvents === 1, 10_000, 'one completed event');
    expect((await queue.getJob('1'))?.returnvalue).toBe('from the rescuer');
    await new Promise((r) => setTimeout(r, 200));
    expect(completedEvents).toBe(1);
  });

  it('renews locks of running jobs so a slow job never stalls', async () => {
    const { queue, worker } = setup();
    await queue.add('slow', {});
    const w = worker(
      async () => {
        await new Promise((r) => setTimeout(r, 700));
        return 'done';
      },
      { lockDuration: 300, stalledInterval: 100 },
    );
    let renewals = 0;
    let stalls = 0;
    w.on('locksRenewed', ({ jobIds }: { jobIds: string[] }) => {
      if (jobIds.includes('1')) renewals++;
    });
    w.on('stalled', () => stalls++);
    await new Promise((resolve) => w.once('completed', resolve));
    expect(renewals).toBeGreaterThanOrEqual(2);
    expect(stalls).toBe(0);
    const job = await queue.getJob('1');
    expect(job?.attemptsStarted).toBe(1);
    expect(job?.stalledCounter).toBe(0);
  });

  it("emits BullMQ's lock error when a job's completion finds its lock gone, and the job is not completed", async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const lockDuration = 200;
    // No renewal and no stalled check: the lock runs out while the processor works and nobody takes the job.
    const w = worker(
      async () => {
        const until = Date.now() + lockDuration * 3;
        while (Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        return 'late';
      },
      { lockDuration, skipLockRenewal: true, skipStalledCheck: true },
    );
    const errors: Error[] = [];
    w.on('error', (err) => errors.push(err));
    let completed = 0;
    w.on('completed', () => completed++);
    await until(() => errors.length > 0, 10_000, 'the error');
    expect(errors[0].message).toBe('Missing lock for job 1. moveToFinished');
    expect(completed).toBe(0);
    expect(await queue.getJobState('1')).toBe('active');
  });

  it('reports lockRenewalFailed when a running job lost its lock', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = worker(async () => gate, { lockDuration: 300, skipStalledCheck: true });
    w.on('error', () => undefined);
    const failedIds: string[][] = [];
    w.on('lockRenewalFailed', (ids: string[]) => failedIds.push(ids));
    await until(async () => (await queue.getJobState('1')) === 'active', 10_000, 'the start');
    await queue.obliterate({ force: true });
    await until(() => failedIds.length > 0, 10_000, 'lockRenewalFailed');
    expect(failedIds[0]).toEqual(['1']);
    release();
  });
});
