import { afterEach, describe, expect, it } from 'vitest';
import { type Job, Queue, UnrecoverableError, Worker } from '../src/index.js';
import { queueName, stores, until } from './support/stores.js';

describe.each(stores)('main job path on $kind', (store) => {
  const open: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(x: T): T => {
    open.push(x);
    return x;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });

  function setup(opts: { name?: string } = {}) {
    const connection = store.connection();
    const name = opts.name ?? queueName();
    const queue = track(new Queue(name, { connection }));
    const worker = (processor: (job: Job) => Promise<unknown>, wopts: Record<string, unknown> = {}) =>
      track(new Worker(name, processor, { connection, drainDelay: 1, ...wopts }));
    return { queue, worker, connection, name };
  }

  it('adds a job and reads it back with BullMQ fields', async () => {
    const { queue } = setup();
    const job = await queue.add('email', { to: 'a@b.c' }, { attempts: 3 });
    expect(job.id).toBe('1');
    expect(queue.qualifiedName).toBe(`bull:${queue.name}`);
    expect(job.queueQualifiedName).toBe(`bull:${queue.name}`);
    const read = await queue.getJob(job.id!);
    expect(read?.name).toBe('email');
    expect(read?.data).toEqual({ to: 'a@b.c' });
    expect(read?.opts.attempts).toBe(3);
    expect(read?.attemptsMade).toBe(0);
    expect(await read?.getState()).toBe('waiting');
    const second = await queue.add('email', {});
    expect(second.id).toBe('2');
    expect(await queue.getJobCounts('waiting', 'active')).toEqual({ waiting: 2, active: 0 });
    expect(await queue.count()).toBe(2);
  });

  it('processes jobs and records the return value', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'a', data: { n: 1 } },
      { name: 'b', data: { n: 2 } },
    ]);
    const done: string[] = [];
    const w = worker(async (job) => job.data.n * 10);
    w.on('completed', (job) => done.push(job.id!));
    await until(() => done.length === 2, 10_000, 'two completions');
    const job = await queue.getJob('1');
    expect(job?.returnvalue).toBe(10);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.attemptsStarted).toBe(1);
    expect(job?.finishedOn).toBeGreaterThanOrEqual(job!.processedOn!);
    expect(await job?.getState()).toBe('completed');
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 2 });
  });

  it('retries a failing job, then fails it for good', async () => {
    const { queue, worker } = setup();
    await queue.add('flaky', {}, { attempts: 3 });
    const failures: number[] = [];
    const w = worker(async () => {
      throw new Error('boom');
    });
    w.on('failed', (job) => failures.push(job!.attemptsMade));
    await until(() => failures.length === 3, 10_000, 'three failures');
    const job = await queue.getJob('1');
    expect(failures).toEqual([1, 2, 3]);
    expect(job?.failedReason).toBe('boom');
    expect(job?.stacktrace.length).toBe(3);
    expect(await job?.getState()).toBe('failed');
  });

  it('fails at once on UnrecoverableError', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {}, { attempts: 5 });
    let runs = 0;
    const w = worker(async () => {
      runs++;
      throw new UnrecoverableError('stop');
    });
    const failed = new Promise((resolve) => w.on('failed', resolve));
    await failed;
    expect(runs).toBe(1);
    expect(await queue.getJobState('1')).toBe('failed');
  });
});
