import { describe, expect, it } from 'vitest';
import { Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Rate limits and the places jobs take in their priority lane, as BullMQ.

describe.each(stores)('rate limits and priority places on $kind', (store) => {
  const { setup } = useQueues(store);

  const names = async (queue: ReturnType<typeof setup>['queue'], type: 'prioritized' | 'wait') =>
    (await queue.getJobs([type], 0, -1, true)).map((j) => j.name);

  it('gives a job back first of its priority, so it keeps its place', async () => {
    const { queue, worker } = setup();
    for (const name of ['1', '2', '3', '4']) await queue.add(name, {}, { priority: 10 });
    const w = worker(null);
    const job = await w.getNextJob('tok');
    expect(job?.name).toBe('1');
    await job!.moveToWait('tok');
    expect(await names(queue, 'prioritized')).toEqual(['1', '2', '3', '4']);
    // Two given back: the last one put first runs first, as in the plain lane.
    const a = await w.getNextJob('a');
    const b = await w.getNextJob('b');
    await a!.moveToWait('a');
    await b!.moveToWait('b');
    expect(await names(queue, 'prioritized')).toEqual(['2', '1', '3', '4']);
  });

  it('puts a job first of its priority with changePriority lifo, leaving its own lifo option', async () => {
    const { queue, worker } = setup();
    await queue.add('a', {}, { priority: 5 });
    const b = await queue.add('b', {}, { priority: 5 });
    await b.changePriority({ priority: 5, lifo: true });
    expect(await names(queue, 'prioritized')).toEqual(['b', 'a']);

    const { queue: plain, worker: plainWorker } = setup();
    await plain.add('x', {});
    const y = await plain.add('y', {}, { attempts: 2 });
    await y.changePriority({ priority: 0, lifo: true });
    const w = plainWorker(null);
    const first = await w.getNextJob('tok');
    expect(first?.name).toBe('y');
    // Retried as it was added (not lifo): behind x.
    await first!.moveToFailed(new Error('again'), 'tok');
    expect((await w.getNextJob('tok2'))?.name).toBe('x');
    void worker;
  });

  it('lets one job through per window when the limiter max is 0', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(['a', 'b', 'c'].map((name) => ({ name, data: {} })));
    worker(async () => 'ok', { concurrency: 3, limiter: { max: 0, duration: 60_000 } });
    await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'one job');
    await until(async () => (await queue.getRateLimitTtl(1)) > 0, 10_000, 'the window to be used up');
    expect(await queue.getCompletedCount()).toBe(1);
    expect(await queue.getWaitingCount()).toBe(2);
  });

  it('ends the limiter window with a manual rate limit, as BullMQ’s one limiter key', async () => {
    const { queue, worker } = setup();
    await queue.add('first', {});
    // A short maximumRateLimitDelay: the worker looks again soon instead of idling out the window.
    const w = worker(async () => 'ok', { limiter: { max: 1, duration: 60_000 }, maximumRateLimitDelay: 200 });
    await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'the first job');
    expect(await queue.getRateLimitTtl()).toBeGreaterThan(1000);
    await queue.rateLimit(50);
    await until(async () => (await queue.getRateLimitTtl()) === -2, 10_000, 'no limit in force');
    // The next job starts a fresh window instead of waiting out the old one.
    await queue.add('second', {});
    await until(async () => (await queue.getCompletedCount()) === 2, 10_000, 'the second job');
    await w.close();
  });

  it('fetches again after maximumRateLimitDelay, promoting delayed jobs that came due', async () => {
    const { queue, worker } = setup();
    await queue.add('now', {});
    const delayed = await queue.add('later', {}, { delay: 100 });
    worker(async () => 'ok', { limiter: { max: 1, duration: 60_000 }, maximumRateLimitDelay: 300 });
    await until(async () => (await queue.getJobState(delayed.id!)) === 'waiting', 10_000, 'the delayed job');
    expect(await queue.getCompletedCount()).toBe(1);
  });

  it('reports a job that vanished before RateLimitError gave it back', async () => {
    const { queue, worker } = setup();
    const errors: string[] = [];
    const w = worker(async () => {
      await queue.obliterate({ force: true });
      throw Worker.RateLimitError();
    });
    w.on('error', (err) => errors.push(err.message));
    const job = await queue.add('x', {});
    await until(() => errors.length > 0, 10_000, 'the error');
    expect(errors[0]).toBe(`Missing key for job ${job.id}. moveJobFromActiveToWait`);
  });

  // Each job here costs a fetch, a read and a completion: on PostgreSQL, at 5–7 round trips a
  // transition, ten of them took ~250 ms on a loaded machine, past BullMQ's 150 ms.
  it('runs jobs back to back once a global rate limit is removed', async () => {
    const { queue, worker } = setup();
    const ttls: number[] = [];
    const w = worker(async () => {
      ttls.push(await queue.getRateLimitTtl());
    });
    await w.waitUntilReady();
    await queue.setGlobalRateLimit(1, 500);
    await queue.removeGlobalRateLimit();
    expect(await queue.getGlobalRateLimit()).toBeNull();
    const started = Date.now();
    await queue.addBulk(Array.from({ length: 10 }, () => ({ name: 'r', data: {} })));
    await until(() => ttls.length === 10, 10_000, 'ten jobs');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ttls).toEqual(Array(10).fill(-2));
  });
});
