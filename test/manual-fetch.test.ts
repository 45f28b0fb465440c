import { describe, expect, it } from 'vitest';
import { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('manual fetching on $kind', (store) => {
  const { setup } = useQueues(store);

  it('does not start a loop without a processor', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    await w.waitUntilReady();
    expect(w.isRunning()).toBe(false);
    await expect(w.run()).rejects.toThrow('No process function is defined.');
    expect(await queue.getJobState('1')).toBe('waiting');
  });

  it('runs a FIFO fetchNext loop with Job.fromJSON', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 60 }, (_, i) => ({ name: 'j', data: { i } })));
    const w = worker(null);
    const token = 'my-token';
    const order: number[] = [];
    let job = await w.getNextJob(token);
    while (job) {
      order.push(job.data.i);
      const [jobData, jobId] = await job.moveToCompleted(`done ${job.data.i}`, token);
      job = jobData ? Job.fromJSON(w, jobData, jobId) : await w.getNextJob(token, { block: false });
    }
    expect(order).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(await queue.getCompletedCount()).toBe(60);
    expect((await queue.getJob('60'))?.returnvalue).toBe('done 59');
    const done = await queue.getJob('1');
    expect(done?.attemptsMade).toBe(1);
  });

  it('returns an empty array from moveToCompleted when nothing is waiting', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = await w.getNextJob('t');
    const next = await job!.moveToCompleted('ok', 't');
    expect(next).toEqual([]);
    const [jobData, jobId] = next;
    expect(jobData).toBeUndefined();
    expect(jobId).toBeUndefined();
  });

  it('returns undefined at once with block: false, and waits for a job with block', async () => {
    const { queue, worker } = setup();
    const w = worker(null, { drainDelay: 5 });
    expect(await w.getNextJob('t', { block: false })).toBeUndefined();
    const pending = w.getNextJob('t');
    setTimeout(() => void queue.add('late', {}), 100);
    expect((await pending)?.name).toBe('late');
  });

  it('applies attempts and backoff in moveToFailed', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {}, { attempts: 2, backoff: 100 });
    const w = worker(null);
    const job = await w.getNextJob('t');
    const failedAt = Date.now();
    await job!.moveToFailed(new Error('first'), 't');
    expect(await queue.getJobState('1')).toBe('delayed');
    const again = await until(() => w.getNextJob('t2', { block: false }), 10_000, 'the retry');
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(100);
    expect(again.attemptsMade).toBe(1);
    await again.moveToFailed(new Error('second'), 't2');
    const failed = await queue.getJob('1');
    expect(await failed?.getState()).toBe('failed');
    expect(failed?.failedReason).toBe('second');
    expect(failed?.attemptsMade).toBe(2);
  });

  it('refuses every move with a wrong token and changes nothing', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = (await w.getNextJob('right'))!;
    await expect(job.moveToCompleted('x', 'wrong', false)).rejects.toThrow(/Lock mismatch for job 1/);
    await expect(job.moveToFailed(new Error('x'), 'wrong')).rejects.toThrow(/Lock mismatch for job 1/);
    await expect(job.moveToDelayed(Date.now() + 1000, 'wrong')).rejects.toThrow(/Lock mismatch for job 1/);
    await expect(job.moveToWait('wrong')).rejects.toThrow(/Lock mismatch for job 1/);
    expect(await job.extendLock('wrong', 60_000)).toBe(0);
    const read = await queue.getJob('1');
    expect(await read?.getState()).toBe('active');
    expect(read?.attemptsMade).toBe(0);
    expect(read?.returnvalue).toBeNull();
    await job.moveToCompleted('right', 'right', false);
    expect(await queue.getJobState('1')).toBe('completed');
  });

  it('keeps a slow job safe past lockDuration with extendLock', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 600, stalledInterval: 100 });
    const fetchedAt = Date.now();
    const job = (await w.getNextJob('t'))!;
    await w.startStalledCheckTimer();
    // Renewed every 100 ms for well past lockDuration (slack for a loaded machine).
    while (Date.now() < fetchedAt + 1500) {
      await new Promise((r) => setTimeout(r, 100));
      expect(await job.extendLock('t', 600)).toBe(1);
    }
    expect(await queue.getJobState('1')).toBe('active');
    await job.moveToCompleted('ok', 't', false);
    expect((await queue.getJob('1'))?.stalledCounter).toBe(0);
  });

  it('lets another token take a job recovered from a lapsed lock', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 150, stalledInterval: 100 });
    const stale = (await w.getNextJob('old'))!;
    await w.startStalledCheckTimer();
    const fresh = await until(() => w.getNextJob('new', { block: false }), 10_000, 'the recovered job');
    expect(fresh.id).toBe('1');
    await expect(stale.moveToCompleted('x', 'old', false)).rejects.toThrow(/Lock mismatch for job 1/);
    await fresh.moveToCompleted('y', 'new', false);
    expect((await queue.getJob('1'))?.returnvalue).toBe('y');
  });

  it('rate limits the queue and gives a job back with moveToWait', async () => {
    const { queue, worker } = setup();
    await queue.add('a', {});
    await queue.add('b', {});
    const w = worker(null);
    const job = (await w.getNextJob('t'))!;
    await queue.rateLimit(500);
    const ttl = await queue.getRateLimitTtl();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(500);
    await job.moveToWait('t');
    const read = await queue.getJob('1');
    expect(await read?.getState()).toBe('waiting');
    expect(read?.attemptsMade).toBe(0);
    const limitedAt = Date.now();
    expect(await w.getNextJob('t', { block: false })).toBeUndefined();
    const next = await until(() => w.getNextJob('t', { block: false }), 10_000, 'the end of the limit');
    expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(ttl - 50);
    expect(next.id).toBe('1'); // given back at the front of the line, as in BullMQ
  });

  it('never lets a limiter start more than max jobs per window', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 12 }, () => ({ name: 'j', data: {} })));
    const starts: number[] = [];
    const duration = 300;
    // processedOn: the fetch's own time, which the limiter's window is measured in (a processor's
    // clock reading can lag its fetch by more than the tolerance on a loaded machine).
    const a = worker(
      async (job) => {
        starts.push(job.processedOn!);
      },
      { concurrency: 4, limiter: { max: 3, duration } },
    );
    const b = worker(
      async (job) => {
        starts.push(job.processedOn!);
      },
      { concurrency: 4, limiter: { max: 3, duration } },
    );
    void a;
    void b;
    await until(async () => (await queue.getCompletedCount()) === 12, 15_000, 'all jobs');
    starts.sort((x, y) => x - y);
    // Window k (0-based) opens no earlier than duration * k after the first start.
    for (let i = 0; i < starts.length; i++) {
      expect(starts[i] - starts[0]).toBeGreaterThanOrEqual(Math.floor(i / 3) * duration - 25);
    }
  });

  it('returns undefined from getNextJob on a paused queue and after close', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    await queue.pause();
    const w = worker(null);
    expect(await w.getNextJob('t', { block: false })).toBeUndefined();
    expect(await w.getNextJob('t')).toBeUndefined();
    await queue.resume();
    await w.close();
    expect(await w.getNextJob('t')).toBeUndefined();
    expect(await queue.getJobState('1')).toBe('waiting');
  });

  it('leaves manually locked jobs to expire when the worker closes', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 150 });
    expect(await w.getNextJob('t')).toBeDefined();
    await w.close();
    expect(await queue.getJobState('1')).toBe('active');
    const rescuer = worker(null, { lockDuration: 150, stalledInterval: 100 });
    await rescuer.startStalledCheckTimer();
    const again = await until(() => rescuer.getNextJob('t2', { block: false }), 10_000, 'recovery');
    expect(again.id).toBe('1');
  });

  it('extends many locks with extendJobLocks, reporting the ones it could not', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    const w = worker(null);
    const a = (await w.getNextJob('ta'))!;
    const b = (await w.getNextJob('tb'))!;
    expect(await w.extendJobLocks([a.id!, b.id!], ['ta', 'wrong'], 60_000)).toEqual([b.id]);
    await w.disconnect();
  });

  it('serves many blocking getNextJob calls at once without a listener-leak warning', async () => {
    const { queue, worker } = setup();
    const w = worker(null, { drainDelay: 5 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const waits = Array.from({ length: 15 }, (_, i) => w.getNextJob(`t${i}`));
      await queue.addBulk(Array.from({ length: 15 }, (_, i) => ({ name: 'j', data: { i } })));
      const jobs = await Promise.all(waits);
      expect(new Set(jobs.map((j) => j?.id)).size).toBe(15);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
