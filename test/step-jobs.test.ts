import { describe, expect, it } from 'vitest';
import { DelayedError, type Job, RateLimitError, WaitingChildrenError, WaitingError, Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

enum Step {
  Initial = 0,
  Second = 1,
  Finish = 2,
}

describe.each(stores)('step jobs on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('resumes a retried job from its stored step, never re-running finished steps', async () => {
    const { queue, worker } = setup();
    await queue.add('steps', { step: Step.Initial }, { attempts: 3 });
    const ran: Record<number, number> = {};
    let failedOnce = false;
    const w = worker(async (job: Job) => {
      let step = job.data.step as Step;
      while (step !== Step.Finish) {
        ran[step] = (ran[step] ?? 0) + 1;
        if (step === Step.Second && !failedOnce) {
          failedOnce = true;
          throw new Error('crash in step two');
        }
        step = step + 1;
        await job.updateData({ ...job.data, step });
      }
      return 'done';
    });
    await new Promise((resolve) => w.once('completed', resolve));
    expect(ran).toEqual({ [Step.Initial]: 1, [Step.Second]: 2 });
    const job = await queue.getJob('1');
    expect(job?.data.step).toBe(Step.Finish);
    expect(job?.attemptsMade).toBe(2);
  });

  it('parks a job with moveToDelayed + DelayedError without spending an attempt', async () => {
    const { queue, worker } = setup();
    await queue.add('steps', { step: 'first' }, { attempts: 1 });
    const runs: { step: string; at: number }[] = [];
    let dueAt = 0;
    const w = worker(async (job: Job, token) => {
      runs.push({ step: job.data.step, at: Date.now() });
      if (job.data.step === 'first') {
        dueAt = Date.now() + 300;
        await job.moveToDelayed(dueAt, token);
        await job.updateData({ step: 'second' });
        throw new DelayedError();
      }
      return job.data.step;
    });
    let failed = 0;
    w.on('failed', () => failed++);
    await new Promise((resolve) => w.once('completed', resolve));
    expect(runs.map((r) => r.step)).toEqual(['first', 'second']);
    expect(runs[1].at).toBeGreaterThanOrEqual(dueAt);
    expect(failed).toBe(0);
    const job = await queue.getJob('1');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.attemptsStarted).toBe(2);
    expect(job?.returnvalue).toBe('second');
  });

  it('refuses moveToDelayed with a wrong token and leaves the job active', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = (await w.getNextJob('mine'))!;
    await expect(job.moveToDelayed(Date.now() + 1000, 'other')).rejects.toThrow(/Lock mismatch for job 1/);
    expect(await job.getState()).toBe('active');
    await job.moveToDelayed(Date.now() + 60_000, 'mine');
    expect(await job.getState()).toBe('delayed');
  });

  it('waits for children added at run time, then collects their values', async () => {
    const { queue, worker, connection } = setup();
    const childQueue = track(new (await import('../src/index.js')).Queue(`${queue.name}-kids`, { connection }));
    const childWorker = track(
      new Worker(childQueue.name, async (job) => job.data.n * 2, { connection, drainDelay: 1, autorun: false }),
    );
    await queue.add('parent', { step: 'spawn' });
    const answers: boolean[] = [];
    let result: Record<string, number> | undefined;
    const w = worker(async (job: Job, token) => {
      if (job.data.step === 'spawn') {
        for (const n of [1, 2, 3]) {
          await childQueue.add('child', { n }, { parent: { id: job.id!, queue: job.queueQualifiedName } });
        }
        await job.updateData({ step: 'wait' });
        const waiting = await job.moveToWaitingChildren(token!);
        answers.push(waiting);
        if (waiting) throw new WaitingChildrenError();
      }
      const again = await job.moveToWaitingChildren(token!);
      answers.push(again);
      result = await job.getChildrenValues();
      return 'parent done';
    });
    const completed = new Promise((resolve) => w.once('completed', resolve));
    await until(async () => (await queue.getJobState('1')) === 'waiting-children', 10_000, 'the parent to wait');
    expect(await childQueue.getWaitingCount()).toBe(3);
    void childWorker.run();
    await completed;
    expect(answers).toEqual([true, false]);
    const prefix = childQueue.qualifiedName;
    expect(result).toEqual({ [`${prefix}:1`]: 2, [`${prefix}:2`]: 4, [`${prefix}:3`]: 6 });
    const parent = await queue.getJob('1');
    expect(parent?.attemptsMade).toBe(1);
    expect(await parent?.getDependenciesCount()).toEqual({ processed: 3, unprocessed: 0, failed: 0, ignored: 0 });
  });

  it('rejects a child whose parent does not exist, storing nothing', async () => {
    const { queue } = setup();
    await expect(queue.add('orphan', {}, { parent: { id: 'nope', queue: queue.qualifiedName } })).rejects.toThrow(
      /Missing key for parent job/,
    );
    expect(await queue.count()).toBe(0);
  });

  it('never counts special errors as attempts', async () => {
    const { queue, worker } = setup();
    await queue.add('x', { phase: 0 }, { attempts: 1 });
    const w = worker(async (job: Job, token) => {
      const phase = job.data.phase as number;
      await job.updateData({ phase: phase + 1 });
      if (phase === 0) {
        await job.moveToDelayed(Date.now() + 10, token);
        throw new DelayedError();
      }
      if (phase === 1) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (phase === 2) {
        await w.rateLimit(50);
        throw Worker.RateLimitError();
      }
      return job.attemptsMade;
    });
    await new Promise((resolve) => w.once('completed', resolve));
    const job = await queue.getJob('1');
    expect(job?.returnvalue).toBe(0);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.attemptsStarted).toBe(4);
  });

  it('recognises special errors by name and message too', async () => {
    const { queue, worker } = setup();
    await queue.add('x', { phase: 0 });
    const w = worker(async (job: Job, token) => {
      if (job.data.phase === 0) {
        await job.updateData({ phase: 1 });
        await job.moveToDelayed(Date.now() + 10, token);
        throw Object.assign(new Error('bullmq:movedToDelayed'), { name: 'Error' });
      }
      return 'ok';
    });
    await new Promise((resolve) => w.once('completed', resolve));
    expect((await queue.getJob('1'))?.attemptsMade).toBe(1);
    expect(new RateLimitError().message).toBe('bullmq:rateLimitExceeded');
  });

  it('fails a job that starts more often than maxStartedAttempts', async () => {
    const { queue, worker } = setup();
    await queue.add('loop', {});
    let runs = 0;
    const w = worker(
      async (job: Job, token) => {
        runs++;
        await job.moveToDelayed(Date.now() + 5, token);
        throw new DelayedError();
      },
      { maxStartedAttempts: 3 },
    );
    const failure = new Promise<Error>((resolve) => w.once('failed', (_job, err) => resolve(err)));
    expect((await failure).message).toBe('job started more than allowable limit');
    expect(runs).toBe(3);
    const job = await queue.getJob('1');
    expect(await job?.getState()).toBe('failed');
    expect(job?.failedReason).toBe('job started more than allowable limit');
  });

  it('retries a failed attempt as attempts allow; maxStartedAttempts fails the next start, even after job.retry()', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {}, { attempts: 2 });
    let runs = 0;
    const w = worker(
      async () => {
        runs++;
        throw new Error('failed');
      },
      { maxStartedAttempts: 1 },
    );
    const failures: [number, number, string][] = [];
    w.on('failed', (job, err) => {
      failures.push([job!.attemptsMade, job!.attemptsStarted, err.message]);
      if (job!.attemptsMade === 2) void job!.retry();
    });
    await until(() => failures.length === 3, 10_000, 'three failures');
    expect(failures).toEqual([
      [1, 1, 'failed'],
      [2, 2, 'job started more than allowable limit'],
      [3, 3, 'job started more than allowable limit'],
    ]);
    expect(runs).toBe(1);
    expect(await queue.getJobState('1')).toBe('failed');
  });

  it('gives a rate-limited job back and pauses fetching for the limit', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const starts: number[] = [];
    const w = worker(async () => {
      starts.push(Date.now());
      if (starts.length === 1) {
        await w.rateLimit(300);
        throw Worker.RateLimitError();
      }
      return 'ok';
    });
    await new Promise((resolve) => w.once('completed', resolve));
    expect(starts).toHaveLength(2);
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(290);
    expect((await queue.getJob('1'))?.attemptsMade).toBe(1);
  });
});
