import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('worker on $kind', (store) => {
  const { setup } = useQueues(store);

  it('runs exactly `concurrency` jobs at once at its peak', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: { i } })));
    let running = 0;
    let peak = 0;
    let done = 0;
    const w = worker(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
      },
      { concurrency: 5 },
    );
    w.on('completed', () => done++);
    await until(() => done === 30, 15_000, 'thirty completions');
    expect(peak).toBe(5);
  });

  it('takes a new concurrency at run time', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 20 }, () => ({ name: 'j', data: {} })));
    let running = 0;
    let peak = 0;
    let done = 0;
    const w = worker(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
      },
      { concurrency: 1 },
    );
    w.on('completed', () => done++);
    await until(() => done >= 2, 10_000, 'two completions');
    w.concurrency = 4;
    await until(() => done === 20, 15_000, 'all completions');
    expect(peak).toBe(4);
  });

  it('never starts a retry before its backoff', async () => {
    const { queue, worker } = setup();
    await queue.add('j', {}, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
    const starts: number[] = [];
    let failures = 0;
    const w = worker(async () => {
      starts.push(Date.now());
      throw new Error('again');
    });
    w.on('failed', () => failures++);
    await until(() => failures === 3, 15_000, 'three failures');
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(200);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(200);
  });

  it('spaces exponential retries and honours a custom backoff strategy', async () => {
    const { queue, worker } = setup();
    await queue.add('exp', {}, { attempts: 3, backoff: { type: 'exponential', delay: 100 } });
    await queue.add('custom', {}, { attempts: 2, backoff: { type: 'custom' } });
    const starts: Record<string, number[]> = { exp: [], custom: [] };
    let finalFailures = 0;
    const w = worker(
      async (job) => {
        starts[job.name].push(Date.now());
        throw new Error('again');
      },
      { concurrency: 2, settings: { backoffStrategy: (attemptsMade) => attemptsMade * 150 } },
    );
    w.on('failed', (job) => {
      if (job && job.attemptsMade === (job.opts.attempts ?? 1)) finalFailures++;
    });
    await until(() => finalFailures === 2, 15_000, 'both jobs to fail');
    expect(starts.exp[1] - starts.exp[0]).toBeGreaterThanOrEqual(100);
    expect(starts.exp[2] - starts.exp[1]).toBeGreaterThanOrEqual(200);
    expect(starts.custom[1] - starts.custom[0]).toBeGreaterThanOrEqual(150);
  });

  it('waits for running jobs on close, and emits its lifecycle events', async () => {
    const { queue, worker } = setup();
    await queue.add('slow', {});
    const events: string[] = [];
    let finished = false;
    const w = worker(async () => {
      await new Promise((r) => setTimeout(r, 200));
      finished = true;
      return 'ok';
    });
    for (const name of ['ready', 'active', 'completed', 'closing', 'closed']) w.on(name, () => events.push(name));
    await until(() => events.includes('active'), 10_000, 'the job to start');
    await w.close();
    expect(finished).toBe(true);
    expect(events).toEqual(['ready', 'active', 'closing', 'completed', 'closed']);
    expect(await queue.getJobState('1')).toBe('completed');
  });

  it("fails a job through the job's own moveToFailed, so a move that throws is an error, not a failure", async () => {
    const { queue, worker } = setup();
    let failed = 0;
    const errors: string[] = [];
    const w = worker(async (job) => {
      job.moveToFailed = async () => {
        throw new Error(`could not move job ${job.id}: lock lost`);
      };
      throw new Error('processing failed');
    });
    w.on('failed', () => failed++);
    w.on('error', (err) => errors.push(err.message));
    await queue.add('x', {});
    await until(() => errors.length > 0, 10_000, 'the error event');
    expect(errors[0]).toMatch(/lock lost/);
    expect(failed).toBe(0);
  });

  it('emits drained when the queue runs empty', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async () => undefined);
    await new Promise((resolve) => w.once('drained', resolve));
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });

  it('does not run before run() when autorun is false', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    let runs = 0;
    const w = worker(
      async () => {
        runs++;
      },
      { autorun: false },
    );
    await w.waitUntilReady();
    expect(w.isRunning()).toBe(false);
    expect(await queue.getJobState('1')).toBe('waiting');
    void w.run();
    await until(async () => (await queue.getJobState('1')) === 'completed', 10_000, 'completion');
    expect(runs).toBe(1);
    await expect(w.run()).rejects.toThrow('Worker is already running.');
  });

  it('ends run() on pause once the running jobs finished, and runs again on resume', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'j', data: { i } })));
    const w = worker(
      async () => {
        await new Promise((r) => setTimeout(r, 30));
      },
      { autorun: false, concurrency: 2 },
    );
    const running = w.run();
    await new Promise((resolve) => w.once('completed', resolve));
    const paused = new Promise<boolean>((resolve) => w.once('paused', () => resolve(w.isRunning())));
    await w.pause();
    expect(await paused).toBe(false); // already false when 'paused' is emitted, as in BullMQ
    await running; // run() resolved: the loop ended
    expect(await queue.getActiveCount()).toBe(0);
    const done = await queue.getCompletedCount();
    expect(done).toBeLessThan(6);
    await w.resume();
    expect(w.isRunning()).toBe(true);
    await until(async () => (await queue.getCompletedCount()) === 6, 10_000, 'the rest after resume');
  });

  it('lets code that adds a job right after constructing a worker still hear its active event', async () => {
    const { queue, worker } = setup();
    const w = worker(async () => 'ok');
    // The listener is attached as the add is sent: on Redis the worker's fetch and the add answer on
    // two connections, and a loaded machine may hand the worker its job before the add's reply.
    const adding = queue.add('x', {});
    const active = new Promise((resolve) => w.once('active', (job: { id?: string }) => resolve(job.id)));
    await adding;
    expect(await active).toBe('1');
  });

  it('gives a job added next to the worker that was ready first, after the adder resumed', async () => {
    // BullMQ's contract: a ready worker is already waiting, so a worker started after the add
    // cannot take the job; and the adder's code after `await add()` runs before the processor.
    // One shared ioredis client on Redis, as BullMQ's own tests use: a late worker is then quick to start.
    const shared = store.kind === 'redis' ? new Redis(store.connection(), { maxRetriesPerRequest: null }) : undefined;
    onTestFinished(() => shared?.quit().then(() => undefined));
    const { queue, worker } = setup(shared ? { connection: shared } : {});
    const first = worker(async (job) => {
      if (!added.has(job.id!)) throw new Error('processor ran before add() resumed');
      await new Promise((r) => setTimeout(r, 50));
    });
    const added = new Set<string>();
    const takenByLate: string[] = [];
    // The first worker is "ready first" only once it is back to waiting: it says so with `drained` (a
    // worker still finishing the last round's job may rightly lose the next job to a late one).
    let drained = 0;
    first.on('drained', () => drained++);
    await first.waitUntilReady();
    for (let round = 0; round < 5; round++) {
      await until(() => drained > round, 10_000, 'the first worker waiting again');
      const job = await queue.add('x', { round });
      added.add(job.id!);
      const w = worker(async (j) => {
        takenByLate.push(j.id!);
      });
      await w.waitUntilReady();
      await until(async () => (await job.getState()) === 'completed' || takenByLate.length > 0, 10_000, 'the job');
      await w.close(); // the next round's late worker must be the only one started after the add
    }
    expect(takenByLate).toEqual([]);
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('stores the worker name as processedBy and passes the token and a signal', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    let seen: { token?: string; signal?: boolean } = {};
    const w = worker(
      async (_job, token, signal) => {
        seen = { token, signal: signal instanceof AbortSignal };
      },
      { name: 'billing-1' },
    );
    await new Promise((resolve) => w.once('completed', resolve));
    expect(seen.token).toMatch(new RegExp(`^${w.id}:`));
    expect(seen.signal).toBe(true);
    expect((await queue.getJob('1'))?.processedBy).toBe('billing-1');
  });

  it('reports progress through the job and the worker', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const seen: unknown[] = [];
    const w = worker(async (job) => {
      await job.updateProgress(42);
      await job.updateProgress({ step: 'two' });
    });
    w.on('progress', (_job, p) => seen.push(p));
    await new Promise((resolve) => w.once('completed', resolve));
    expect(seen).toEqual([42, { step: 'two' }]);
    expect((await queue.getJob('1'))?.progress).toEqual({ step: 'two' });
  });

  it('rejects a bad concurrency', () => {
    expect(() => new Worker('x', null, { connection: store.connection(), concurrency: 0, autorun: false })).toThrow(
      /concurrency/,
    );
  });
});
