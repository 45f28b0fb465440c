import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// worker.processJob(job, token, fetchNextCallback): BullMQ's public way to run the worker's processor
// on a job taken with getNextJob, finishing it as the worker finishes its own jobs.
describe.each(stores)('worker.processJob on $kind', (store) => {
  const { setup } = useQueues(store);

  it('runs the processor on the job and completes it with the worker event', async () => {
    const { queue, worker } = setup();
    await queue.add('a', { n: 2 });
    await queue.add('b', { n: 3 });
    const seen: [string | undefined, string | undefined][] = [];
    const w = worker(
      async (job, token) => {
        seen.push([job.name, token]);
        return job.data.n * 10;
      },
      { autorun: false },
    );
    const completed: [string | undefined, unknown][] = [];
    w.on('completed', (job, result) => completed.push([job.id, result]));
    const job = await w.getNextJob('tok');
    const next = await w.processJob(job!, 'tok', () => false);
    expect(next).toBeUndefined();
    expect(seen).toEqual([['a', 'tok']]);
    expect(completed).toEqual([[job!.id, 20]]);
    expect(job!.returnvalue).toBe(20);
    expect(job!.attemptsMade).toBe(1);
    expect(await queue.getJobState(job!.id!)).toBe('completed');
    expect((await queue.getJob(job!.id!))?.returnvalue).toBe(20);
    expect(await queue.getWaitingCount()).toBe(1); // the callback said no: 'b' was not taken
  });

  it('returns the next job, held by the same token, while the callback says so', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'j', data: { n } })));
    const w = worker(async (job) => job.data.n, { autorun: false });
    const active: string[] = [];
    w.on('active', (job) => active.push(job.id!));
    const token = 'chain';
    const order: number[] = [];
    let job: Job | undefined = await w.getNextJob(token);
    while (job) {
      order.push(job.data.n);
      job = await w.processJob(job, token); // the default callback: always fetch
    }
    expect(order).toEqual([1, 2, 3]);
    expect(active).toHaveLength(3); // getNextJob's job and the two fetched by processJob
    expect(await queue.getCompletedCount()).toBe(3);
  });

  it('asks the callback only once the processor is done', async () => {
    const { queue, worker } = setup();
    await queue.add('first', {});
    const w = worker(
      async () => {
        await queue.add('second', {}); // added while the first one runs
        return 'ok';
      },
      { autorun: false },
    );
    let asked = 0;
    const job = await w.getNextJob('t');
    const next = await w.processJob(job!, 't', () => ++asked > 0);
    expect(asked).toBe(1);
    expect(next?.name).toBe('second');
    expect(next?.token).toBe('t');
    expect(await queue.getJobState(next!.id!)).toBe('active');
  });

  it('fails the job when the processor throws, with retries as configured', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {}, { attempts: 2 });
    const w = worker(
      async () => {
        throw new Error('boom');
      },
      { autorun: false },
    );
    const failed: string[] = [];
    w.on('failed', (_job, err) => failed.push(err.message));
    let job = await w.getNextJob('t');
    expect(await w.processJob(job!, 't', () => false)).toBeUndefined();
    expect(await queue.getJobState(job!.id!)).toBe('waiting'); // retried at once: no backoff
    job = await w.getNextJob('t');
    expect(await w.processJob(job!, 't', () => false)).toBeUndefined();
    expect(failed).toEqual(['boom', 'boom']);
    const stored = await queue.getJob(job!.id!);
    expect(await stored?.getState()).toBe('failed');
    expect(stored?.failedReason).toBe('boom');
    expect(stored?.attemptsMade).toBe(2);
  });

  it('emits a refused move as an error instead of throwing, and leaves the job as it was', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async () => 'done', { autorun: false });
    const errors: Error[] = [];
    w.on('error', (err) => errors.push(err));
    const job = await w.getNextJob('right');
    await expect(w.processJob(job!, 'wrong', () => false)).resolves.toBeUndefined();
    expect(errors.map((e) => e.message).join()).toMatch(/lock/i);
    expect(await queue.getJobState(job!.id!)).toBe('active');
  });

  it('finishes through job.moveToCompleted, where code that wraps it sees the move', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async () => 'r', { autorun: false });
    const job = await w.getNextJob('t');
    const calls: unknown[][] = [];
    const original = job!.moveToCompleted.bind(job);
    job!.moveToCompleted = (...args: Parameters<Job['moveToCompleted']>) => {
      calls.push(args);
      return original(...args);
    };
    await w.processJob(job!, 't', () => false);
    expect(calls).toEqual([['r', 't', false]]);
    expect(await queue.getJobState(job!.id!)).toBe('completed');
  });

  it('fails the job when job.moveToCompleted throws something other than a refusal', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async () => 'r', { autorun: false });
    const errors: string[] = [];
    const failed: string[] = [];
    w.on('error', (err) => errors.push(err.message));
    w.on('failed', (_job, err) => failed.push(err.message));
    const job = await w.getNextJob('t');
    job!.moveToCompleted = async () => {
      throw new Error('wrapped move broke');
    };
    expect(await w.processJob(job!, 't', () => false)).toBeUndefined();
    expect(errors).toEqual(['wrapped move broke']);
    expect(failed).toEqual(['wrapped move broke']);
    expect((await queue.getJob(job!.id!))?.failedReason).toBe('wrapped move broke');
  });

  it('renews the lock while the processor runs', async () => {
    const { queue, worker } = setup();
    await queue.add('long', {});
    const renewed = new EventTarget();
    const w = worker(
      async (): Promise<string[]> => {
        const [event] = (await once(renewed, 'renewed')) as [CustomEvent<string[]>];
        return event.detail;
      },
      { autorun: false, lockDuration: 400 },
    );
    w.on('locksRenewed', ({ jobIds }) => renewed.dispatchEvent(new CustomEvent('renewed', { detail: jobIds })));
    const job = await w.getNextJob('t');
    await w.processJob(job!, 't', () => false);
    expect(job!.returnvalue).toEqual([job!.id]);
    expect(await queue.getJobState(job!.id!)).toBe('completed');
  });

  it('lets cancelJob reach the job while its processor runs', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    let started = false;
    const w = worker(
      (_job, _token, signal) =>
        new Promise((_resolve, reject) => {
          signal!.addEventListener('abort', () => reject(new Error(`aborted: ${signal!.reason}`)));
          started = true;
        }),
      { autorun: false },
    );
    const job = await w.getNextJob('t');
    const running = w.processJob(job!, 't', () => false);
    await until(() => started, 5_000, 'the processor to start');
    expect(w.cancelJob(job!.id!, 'stop')).toBe(true);
    await running;
    expect((await queue.getJob(job!.id!))?.failedReason).toBe('aborted: stop');
  });
});
