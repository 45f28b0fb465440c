import { describe, expect, it } from 'vitest';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('Queue API on $kind', (store) => {
  const { setup } = useQueues(store);

  async function finished(queue: ReturnType<typeof setup>['queue'], n: number) {
    await until(
      async () => (await queue.getJobCountByTypes('completed', 'failed')) === n,
      10_000,
      `${n} finished jobs`,
    );
  }

  it('lists jobs per type with getJobs and the typed getters', async () => {
    const { queue } = setup();
    await queue.add('a', {});
    await queue.add('b', {});
    await queue.add('p', {}, { priority: 2 });
    await queue.add('d', {}, { delay: 60_000 });
    expect((await queue.getWaiting()).map((j) => j.name)).toEqual(['a', 'b']);
    expect((await queue.getPrioritized()).map((j) => j.name)).toEqual(['p']);
    expect((await queue.getDelayed()).map((j) => j.name)).toEqual(['d']);
    expect((await queue.getJobs(['waiting'], 0, -1, false)).map((j) => j.name)).toEqual(['b', 'a']);
    expect((await queue.getJobs(['waiting', 'delayed'], 0, 0, true)).map((j) => j.name)).toEqual(['a', 'd']);
    expect(await queue.getWaitingCount()).toBe(2);
    expect(await queue.getDelayedCount()).toBe(1);
    expect(await queue.getPrioritizedCount()).toBe(1);
    expect(await queue.getJobCountByTypes('waiting', 'prioritized')).toBe(3);
  });

  it("names keys with toKey as BullMQ does, matching a child job's parentKey", async () => {
    const { queue } = setup();
    expect(queue.toKey('meta')).toBe(`${queue.qualifiedName}:meta`);
    const parent = await queue.add('parent', {});
    const child = await queue.add('child', {}, { parent: { id: parent.id!, queue: queue.qualifiedName } });
    expect(child.parentKey).toBe(queue.toKey(parent.id!));
  });

  it('moves a delayed job of a paused queue to waiting when it comes due, without running it', async () => {
    const { queue, worker } = setup();
    let ran = 0;
    // drainDelay 60 s: the worker must learn the due time from the add, not from its drain timeout.
    const w = worker(
      async () => {
        ran++;
      },
      { drainDelay: 60 },
    );
    await w.waitUntilReady();
    await queue.pause();
    await queue.add('later', {}, { delay: 200 });
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 1 });
    await until(async () => (await queue.getJobCounts('waiting')).waiting === 1, 10_000, 'the promotion');
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 0 });
    expect(ran).toBe(0);
  });

  it('pauses and resumes a queue with a running worker', async () => {
    const { queue, worker } = setup();
    await queue.pause();
    expect(await queue.isPaused()).toBe(true);
    const job = await queue.add('x', {});
    expect(await job.getState()).toBe('waiting');
    let ran = 0;
    const w = worker(async () => {
      ran++;
    });
    await w.waitUntilReady();
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(0);
    await queue.resume();
    expect(await queue.isPaused()).toBe(false);
    await until(() => ran === 1, 10_000, 'the job after resume');
  });

  it('pauses and resumes a worker locally', async () => {
    const { queue, worker } = setup();
    let ran = 0;
    const w = worker(async () => {
      ran++;
    });
    await w.pause();
    expect(w.isPaused()).toBe(true);
    await queue.add('x', {});
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(0);
    await w.resume();
    await until(() => ran === 1, 10_000, 'the job after resume');
  });

  it('drains waiting jobs, and delayed ones on request', async () => {
    const { queue } = setup();
    await queue.add('a', {});
    await queue.add('p', {}, { priority: 1 });
    await queue.add('d', {}, { delay: 60_000 });
    await queue.drain();
    expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({
      waiting: 0,
      prioritized: 0,
      delayed: 1,
    });
    await queue.drain(true);
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 0 });
  });

  it('cleans finished jobs older than the grace period, up to a limit', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'ok', data: {} })));
    await queue.add('bad', {});
    const w = worker(async (job) => {
      if (job.name === 'bad') throw new Error('x');
    });
    await finished(queue, 6);
    await w.close();
    expect(await queue.clean(60_000, 0, 'completed')).toEqual([]);
    const removed = await queue.clean(0, 2, 'completed');
    expect(removed).toHaveLength(2);
    expect(await queue.getCompletedCount()).toBe(3);
    expect(await queue.clean(0, 0, 'failed')).toEqual(['6']);
    await queue.add('w', {});
    expect(await queue.clean(0, 0, 'wait')).toHaveLength(1);
    await queue.add('d', {}, { delay: 60_000 });
    expect(await queue.clean(0, 0, 'delayed')).toHaveLength(1);
  });

  it('names both wait and waiting as wait in its local cleaned event', async () => {
    const { queue } = setup();
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    const seen: [string[], string][] = [];
    queue.on('cleaned', (ids: string[], type: string) => seen.push([ids, type]));
    await queue.clean(0, 1, 'wait');
    await queue.clean(0, 1, 'waiting');
    expect(seen.map(([ids, type]) => [ids.length, type])).toEqual([
      [1, 'wait'],
      [1, 'wait'],
    ]);
  });

  it('obliterates a queue, refusing while a job is active unless forced', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 3 }, () => ({ name: 'x', data: {} })));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = worker(async () => gate);
    await until(async () => (await queue.getActiveCount()) === 1, 10_000, 'an active job');
    await expect(queue.obliterate()).rejects.toThrow(/^Cannot obliterate queue with active jobs$/); // bull-board matches the text whole
    expect(await queue.count()).toBe(2);
    await queue.obliterate({ force: true });
    release();
    await w.close();
    expect(await queue.getJobCountByTypes('waiting', 'active', 'completed', 'failed')).toBe(0);
    expect(await queue.getJob('1')).toBeUndefined();
  });

  it('obliterate leaves nothing of the queue: jobs, logs, job schedulers and recorded metrics', async () => {
    const { queue, worker } = setup();
    await queue.upsertJobScheduler('nightly', { every: 3_600_000 }, { name: 'report' });
    const job = await queue.add('x', {});
    await job.log('a line');
    const w = worker(async () => 'done', { metrics: { maxDataPoints: 10 } });
    await until(async () => (await queue.getCompletedCount()) >= 2, 10_000, 'both jobs completed');
    expect((await queue.getMetrics('completed')).meta.count).toBeGreaterThanOrEqual(2);
    await w.close();
    await queue.obliterate({ force: true });
    expect(await queue.getJobSchedulers()).toEqual([]);
    expect((await queue.getMetrics('completed')).meta.count).toBe(0);
    expect((await queue.getJobLogs(job.id!)).logs).toEqual([]);
    expect(await queue.getJobCountByTypes('waiting', 'delayed', 'active', 'completed', 'failed')).toBe(0);
  });

  it('removes a job, retries failed ones, promotes delayed ones', async () => {
    const { queue, worker } = setup();
    await queue.add('gone', {});
    expect(await queue.remove('1')).toBe(1);
    expect(await queue.getJob('1')).toBeUndefined();
    expect(await queue.remove('1')).toBe(0);
    await queue.add('fails-once', {});
    let runs = 0;
    worker(async () => {
      if (++runs === 1) throw new Error('first');
      return 'second';
    });
    await finished(queue, 1);
    expect(await queue.getJobState('2')).toBe('failed');
    await queue.retryJobs({ state: 'failed' });
    await until(async () => (await queue.getJobState('2')) === 'completed', 10_000, 'retried job');
    const retried = await queue.getJob('2');
    expect(retried?.returnvalue).toBe('second');
    expect(retried?.failedReason).toBeUndefined();
    await queue.add('later', {}, { delay: 60_000 });
    await queue.promoteJobs();
    await until(async () => (await queue.getJobState('3')) === 'completed', 10_000, 'promoted job');
  });

  it('keeps job logs, trimmed by keepLogs', async () => {
    const { queue } = setup();
    const job = await queue.add('x', {}, { keepLogs: 2 });
    await job.log('one');
    await job.log('two');
    expect(await job.log('three')).toBe(2);
    expect(await queue.getJobLogs(job.id!)).toEqual({ logs: ['two', 'three'], count: 2 });
    expect(await queue.addJobLog(job.id!, 'four')).toBe(3);
    await job.clearLogs();
    expect((await queue.getJobLogs(job.id!)).count).toBe(0);
  });

  it('updates job data, progress and state from outside the worker', async () => {
    const { queue } = setup();
    const job = await queue.add('x', { a: 1 }, { delay: 60_000 });
    await job.updateData({ a: 2 });
    await queue.updateJobProgress(job.id!, 30);
    let read = await queue.getJob(job.id!);
    expect(read?.data).toEqual({ a: 2 });
    expect(read?.progress).toBe(30);
    expect(await job.isDelayed()).toBe(true);
    await job.changeDelay(120_000);
    expect(await job.isDelayed()).toBe(true);
    await job.promote();
    expect(await job.isWaiting()).toBe(true);
    await job.changePriority({ priority: 4 });
    expect(await job.getState()).toBe('prioritized');
    read = await queue.getJob(job.id!);
    expect(read?.priority).toBe(4);
    await expect(job.promote()).rejects.toThrow(/not in the delayed state/);
    await job.remove();
    expect(await queue.getJob(job.id!)).toBeUndefined();
  });

  it('retries a job with reset counters', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    let runs = 0;
    worker(async () => {
      runs++;
      throw new Error('always');
    });
    await finished(queue, 1);
    const job = (await queue.getJob('1'))!;
    expect(job.attemptsMade).toBe(1);
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await until(() => runs === 2, 10_000, 'the second run');
    await finished(queue, 1);
    const again = (await queue.getJob('1'))!;
    expect(again.attemptsMade).toBe(1);
    expect(again.attemptsStarted).toBe(1);
    await expect(again.retry('completed')).rejects.toThrow(/not in the completed state/);
  });
});
