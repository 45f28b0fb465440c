import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

/**
 * Hostile processors (guarantees.md "Hostile processors"): whatever a processor throws or returns,
 * its job ends with a readable reason (or stalls, for one that never settles without lock renewal)
 * and the worker goes on with the next job.
 */
describe.each(stores)('hostile processors on $kind', (store) => {
  const { setup } = useQueues(store);

  const readable = (reason: string | undefined) =>
    typeof reason === 'string' && reason.length > 0 && !reason.includes('[object Object]');

  it('fails jobs whose processor throws non-Error values, with a readable reason, and goes on', async () => {
    const { queue, worker } = setup();
    const symbolic = Symbol('sym');
    const throws: Record<string, () => unknown> = {
      string: () => 'plain string',
      number: () => 42,
      undefined: () => undefined,
      null: () => null,
      object: () => ({ code: 'E_THING', detail: 1 }),
      withMessage: () => ({ message: 'message from an object', name: 'Custom' }),
      symbol: () => symbolic,
      array: () => [1, 'two'],
      errorSubclass: () => Object.assign(new RangeError('range!'), { extra: 1n }),
    };
    const names = Object.keys(throws);
    for (const n of names) await queue.add(n, {});
    await queue.add('fine', {});
    const w = worker(async (job: Job) => {
      if (job.name === 'fine') return 'ok';
      throw throws[job.name]();
    });
    const failedEvents: string[] = [];
    w.on('failed', (job) => failedEvents.push(job?.name ?? '?'));
    await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'the fine job after the throwers');
    await until(async () => (await queue.getFailedCount()) === names.length, 10_000, 'every thrower to fail');
    const reasons: Record<string, string | undefined> = {};
    for (const [i, n] of names.entries()) reasons[n] = (await queue.getJob(String(i + 1)))?.failedReason;
    for (const n of names) expect(readable(reasons[n]), `${n}: ${reasons[n]}`).toBe(true);
    expect(reasons.string).toContain('plain string');
    expect(reasons.number).toContain('42');
    expect(reasons.object).toContain('E_THING');
    expect(reasons.withMessage).toBe('message from an object');
    expect(reasons.symbol).toContain('sym');
    expect(reasons.errorSubclass).toBe('range!');
    expect(failedEvents.sort()).toEqual([...names].sort());
  });

  it('fails a job whose processor throws an object that cannot be printed', async () => {
    const { queue, worker } = setup();
    await queue.add('nasty', {});
    await queue.add('fine', {});
    const w = worker(async (job: Job) => {
      if (job.name === 'fine') return 'ok';
      const nasty = Object.create(null);
      nasty.self = nasty;
      throw nasty;
    });
    w.on('error', () => undefined);
    await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'the fine job');
    await until(async () => (await queue.getJobState('1')) === 'failed', 5_000, 'the nasty job to fail');
    expect(readable((await queue.getJob('1'))?.failedReason)).toBe(true);
  });

  // Return values JSON cannot hold (BigInt, circular, functions): see regressions.test.ts.

  it('fails a job whose processor throws synchronously', async () => {
    const { queue, worker } = setup();
    await queue.add('sync', {});
    await queue.add('fine', {});
    worker(((job: Job) => {
      if (job.name === 'fine') return Promise.resolve('ok');
      throw new Error('thrown before any promise');
    }) as never);
    await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'the fine job');
    expect((await queue.getJob('1'))?.failedReason).toBe('thrown before any promise');
  });

  it('stalls then fails a job whose processor never settles when lock renewal is off; the worker goes on', async () => {
    const { queue, worker, name, connection } = setup();
    const { QueueEvents } = await import('../../src/index.js');
    const events = new QueueEvents(name, { connection });
    await events.waitUntilReady();
    const failed: string[] = [];
    events.on('failed', ({ jobId, failedReason }: { jobId: string; failedReason: string }) =>
      failed.push(`${jobId}: ${failedReason}`),
    );
    await queue.add('hang', {});
    const w = worker(
      async (job: Job) => {
        if (job.name === 'hang') return new Promise(() => undefined);
        return 'ok';
      },
      { concurrency: 2, lockDuration: 300, stalledInterval: 100, maxStalledCount: 0, skipLockRenewal: true },
    );
    try {
      await until(async () => (await queue.getJobState('1')) === 'failed', 15_000, 'the hung job to fail');
      expect((await queue.getJob('1'))?.failedReason).toBe('job stalled more than allowable limit');
      await until(() => failed.length === 1, 15_000, 'the failed event');
      expect(failed).toEqual(['1: job stalled more than allowable limit']);
      // The other slot keeps working.
      await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'fine', data: {} })));
      await until(async () => (await queue.getCompletedCount()) === 5, 10_000, 'the jobs after the hung one');
    } finally {
      // The hung processor never settles: only a forced close ends the worker.
      await w.close(true);
      await events.close();
    }
  });
});
