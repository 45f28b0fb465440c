import { describe, expect, it } from 'vitest';
import { type Job, QueueEvents, ValidationError } from '../src/index.js';
import type { Store } from '../src/store/store.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// Batches (issue 23, BullMQ Pro's API): one processor call for many jobs, each job finished on its own.
describe.each(stores)('batches on $kind', (store) => {
  const { setup, track } = useQueues(store);

  /** Counts a worker's complete/fail store calls (the real store's methods, only counted). */
  function countMoves(worker: object): { complete: number; fail: number } {
    const s = (worker as unknown as { store: Store }).store;
    const counts = { complete: 0, fail: 0 };
    const complete = s.complete.bind(s);
    const fail = s.fail.bind(s);
    s.complete = (...args) => {
      counts.complete++;
      return complete(...args);
    };
    s.fail = (...args) => {
      counts.fail++;
      return fail(...args);
    };
    return counts;
  }

  it('hands the processor batches of up to `size` jobs and completes each job once', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const completedIds: string[] = [];
    events.on('completed', ({ jobId }: { jobId: string }) => completedIds.push(jobId));
    await queue.addBulk(Array.from({ length: 25 }, (_, i) => ({ name: `j${i}`, data: { i } })));
    const batches: number[][] = [];
    const w = worker(
      async (job) => {
        batches.push(job.getBatch().map((j: Job) => j.data.i));
        return 'ok';
      },
      { batch: { size: 10 } },
    );
    const moves = countMoves(w);
    const active: Job[] = [];
    const completed: [Job, unknown][] = [];
    w.on('active', (job) => active.push(job));
    w.on('completed', (job, value) => completed.push([job, value]));
    await until(async () => (await queue.getJobCounts('completed')).completed === 25, 15_000, '25 completions');
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i));
    // The worker's events are the batch's; QueueEvents tell of every job.
    await until(() => completed.length === 3 && completedIds.length === 25, 10_000, 'the events');
    expect(active).toHaveLength(3);
    expect(completed.map(([job, value]) => [job.getBatch().length, value])).toEqual([
      [10, 'ok'],
      [10, 'ok'],
      [5, 'ok'],
    ]);
    expect(new Set(completedIds).size).toBe(25);
    // One store call per batch: its completion fetched the next batch in the same step.
    expect(moves).toEqual({ complete: 3, fail: 0 });
    const jobs = await queue.getJobs(['completed'], 0, -1);
    expect(jobs.every((j) => j.returnvalue === 'ok' && j.attemptsMade === 1)).toBe(true);
  });

  it('fails the jobs set as failed and completes the rest', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: `j${i}`, data: { bad: i % 3 === 0 } })));
    const w = worker(
      async (job) => {
        for (const j of job.getBatch()) if (j.data.bad) j.setAsFailed(new Error(`bad ${j.name}`));
      },
      { batch: { size: 6 } },
    );
    const moves = countMoves(w);
    const workerEvents: string[] = [];
    w.on('completed', () => workerEvents.push('completed'));
    w.on('failed', () => workerEvents.push('failed'));
    await until(async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed === 4 && c.failed === 2;
    });
    const failed = await queue.getJobs(['failed']);
    expect(failed.map((j) => [j.name, j.failedReason]).sort()).toEqual([
      ['j0', 'bad j0'],
      ['j3', 'bad j3'],
    ]);
    await until(() => workerEvents.length === 1);
    expect(workerEvents).toEqual(['completed']);
    expect(moves).toEqual({ complete: 1, fail: 1 });
  });

  it('fails the whole batch when the processor throws, retrying each job per its attempts', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const failedEvents: string[] = [];
    events.on('failed', ({ jobId }: { jobId: string }) => failedEvents.push(jobId));
    await queue.addBulk([
      { name: 'once', data: {}, opts: { attempts: 2, backoff: { type: 'fixed', delay: 100 } } },
      { name: 'once', data: {}, opts: { attempts: 2, backoff: { type: 'fixed', delay: 100 } } },
      { name: 'single', data: {} },
    ]);
    let calls = 0;
    const w = worker(
      async (job) => {
        calls++;
        if (calls === 1) throw new Error('batch broke');
        return job.getBatch().length;
      },
      { batch: { size: 3 } },
    );
    const failedBatches: [number, string][] = [];
    w.on('failed', (job, err) => failedBatches.push([job!.getBatch().length, err.message]));
    await until(async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed === 2 && c.failed === 1;
    });
    expect(failedBatches).toEqual([[3, 'batch broke']]);
    const [single] = await queue.getJobs(['failed']);
    expect([single.name, single.failedReason, single.attemptsMade]).toEqual(['single', 'batch broke', 1]);
    const retried = await queue.getJobs(['completed']);
    expect(retried.map((j) => [j.name, j.attemptsMade, j.returnvalue])).toEqual([
      ['once', 2, 2],
      ['once', 2, 2],
    ]);
    // The one final failure reaches QueueEvents; the retried jobs failed an attempt only.
    await until(() => failedEvents.length >= 1);
    expect(failedEvents).toEqual([single.id]);
  });

  it('retries a job set as failed per its own attempts and backoff, in a later batch', async () => {
    const { queue, worker } = setup();
    await queue.add('flaky', {}, { attempts: 3, backoff: { type: 'fixed', delay: 50 } });
    await queue.add('steady', {});
    const batches: string[][] = [];
    worker(
      async (job) => {
        const batch = job.getBatch();
        batches.push(batch.map((j: Job) => `${j.name}#${j.attemptsMade}`));
        for (const j of batch) if (j.name === 'flaky' && j.attemptsMade < 2) j.setAsFailed(new Error('not yet'));
      },
      { batch: { size: 5 } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 2);
    expect(batches).toEqual([['flaky#0', 'steady#0'], ['flaky#1'], ['flaky#2']]);
    const [flaky] = (await queue.getJobs(['completed'])).filter((j) => j.name === 'flaky');
    expect(flaky.attemptsMade).toBe(3);
  });

  it("waits out each job's own backoff: jobs failed in one batch come back apart, each after its delay", async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'fast', data: {}, opts: { attempts: 2, backoff: { type: 'fixed', delay: 300 } } },
      { name: 'slow', data: {}, opts: { attempts: 2, backoff: { type: 'fixed', delay: 1500 } } },
    ]);
    const batches: [string[], number][] = [];
    worker(
      async (job) => {
        const batch = job.getBatch();
        batches.push([batch.map((j: Job) => j.name), Date.now()]);
        for (const j of batch) if (j.attemptsMade === 0) j.setAsFailed(new Error('later'));
      },
      { batch: { size: 5 } },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 2, 15_000);
    expect(batches.map(([names]) => names)).toEqual([['fast', 'slow'], ['fast'], ['slow']]);
    const [[, t0], [, fast], [, slow]] = batches;
    expect(fast - t0).toBeGreaterThanOrEqual(300);
    expect(slow - t0).toBeGreaterThanOrEqual(1500);
  });

  it('fails a job started more than maxStartedAttempts without handing it to the processor', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'x', data: {}, opts: { attempts: 3 } },
      { name: 'y', data: {}, opts: { attempts: 3 } },
    ]);
    const batches: string[][] = [];
    worker(
      async (job) => {
        batches.push(job.getBatch().map((j: Job) => j.name));
        if (batches.length > 1) return;
        // x and y retry at once (no backoff), behind z: the next batch holds all three.
        await queue.add('z', {});
        throw new Error('first run');
      },
      { batch: { size: 5 }, maxStartedAttempts: 1 },
    );
    await until(async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed === 1 && c.failed === 2;
    });
    expect(batches).toEqual([['x', 'y'], ['z']]);
    const failed = await queue.getJobs(['failed']);
    expect(failed.map((j) => [j.name, j.failedReason, j.attemptsStarted]).sort()).toEqual([
      ['x', 'job started more than allowable limit', 2],
      ['y', 'job started more than allowable limit', 2],
    ]);
  });

  it('leaves a job cancelled mid-batch failed and completes the rest, without an error', async () => {
    const { queue, worker } = setup();
    const [, doomed] = await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const w = worker(
      async () => {
        started = true;
        await gate;
        return 'ok';
      },
      { batch: { size: 2 } },
    );
    const errors: unknown[] = [];
    w.on('error', (err) => errors.push(err));
    await until(() => started);
    expect(await queue.cancelJob(doomed.id!, 'not needed')).toBe(true);
    release();
    await until(async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed === 1 && c.failed === 1;
    });
    expect(await doomed.getState()).toBe('failed');
    await w.close();
    expect(errors).toEqual([]);
  });

  it('renews every lock of a long batch, so none of its jobs stalls', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    let stalled = 0;
    events.on('stalled', () => stalled++);
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: `j${i}`, data: {} })));
    let runs = 0;
    worker(
      async (job) => {
        runs += job.getBatch().length;
        await new Promise((r) => setTimeout(r, 2500));
      },
      { batch: { size: 5 }, lockDuration: 1000, stalledInterval: 300 },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 5, 15_000);
    expect(runs).toBe(5);
    expect(stalled).toBe(0);
  });

  it('runs batches side by side up to the concurrency, one slot each', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: `j${i}`, data: {} })));
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    worker(
      async (job) => {
        running++;
        most = Math.max(most, running);
        sizes.push(job.getBatch().length);
        await new Promise((r) => setTimeout(r, 300));
        running--;
      },
      { batch: { size: 2 }, concurrency: 2 },
    );
    await until(async () => (await queue.getJobCounts('completed')).completed === 8, 15_000);
    expect(sizes).toEqual([2, 2, 2, 2]);
    expect(most).toBe(2);
  });

  it('refuses bad batch options and setAsFailed outside a running batch, with clear errors', async () => {
    const { queue, worker } = setup();
    expect(() => worker(async () => undefined, { batch: { size: 0 } })).toThrow(/batch.size must be an integer/);
    expect(() => worker(async () => undefined, { batch: { size: 5, minSize: 6 } })).toThrow(/batch.minSize must be/);
    expect(() => worker(async () => undefined, { batch: { size: 5, timeout: -1 } })).toThrow(/batch.timeout must be/);
    expect(() => worker('/nonexistent/processor.js', { batch: { size: 5 } })).toThrow(/sandboxed processor/);
    const job = await queue.add('plain', {});
    expect(job.getBatch()).toEqual([]);
    expect(() => job.setAsFailed(new Error('x'))).toThrow(ValidationError);
    expect(() => job.setAsFailed(new Error('x'))).toThrow(/not in a running batch/);
  });
});
