import { describe, expect, it, vi } from 'vitest';
import { Job, Queue, QueueEvents } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { queueName, stores, until } from './support/stores.js';

// The queue-level calls whose answers BullMQ fixes: the meta (version, limits, paused), what the
// limit setters resolve, the rate limit ttl, and who is listening.
describe.each(stores)('queue meta and limits on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('records the library version on open, unless skipMetasUpdate', async () => {
    const { queue, connection } = setup();
    await queue.waitUntilReady();
    expect(await queue.getVersion()).toMatch(/^bullmq.*:6\.7\.0$/);
    const untouched = track(new Queue(queueName('untouched'), { connection, skipMetasUpdate: true }));
    expect(await untouched.getVersion()).toBeNull();
    expect(await untouched.getMeta()).toEqual({ paused: false });
  });

  it('shows version, event cap, paused and the global limits in getMeta', async () => {
    const { queue } = setup();
    expect(await queue.getMeta()).toMatchObject({ maxLenEvents: 10000, paused: false });
    expect(await queue.setGlobalConcurrency(3)).toBe(1);
    expect(await queue.setGlobalConcurrency(4)).toBe(0);
    expect(await queue.setGlobalRateLimit(2, 500)).toBe(2);
    expect(await queue.setGlobalRateLimit(5, 500)).toBe(0);
    await queue.pause();
    const meta = await queue.getMeta();
    expect(meta).toMatchObject({ paused: true, concurrency: 4, max: 5, duration: 500 });
    expect(meta.version).toMatch(/^bullmq/);
    expect(await queue.removeGlobalConcurrency()).toBe(1);
    expect(await queue.removeGlobalConcurrency()).toBe(0);
    expect(await queue.removeGlobalRateLimit()).toBe(2);
    expect(await queue.removeGlobalRateLimit()).toBe(0);
    await queue.resume();
    const after = await queue.getMeta();
    expect(after).toMatchObject({ paused: false });
    expect(after).not.toHaveProperty('concurrency');
    expect(after).not.toHaveProperty('max');
  });

  it('answers getRateLimitTtl as BullMQ: -2 with no limit, the ttl of a manual one, maxJobs honoured', async () => {
    const { queue } = setup();
    expect(await queue.getRateLimitTtl()).toBe(-2);
    expect(await queue.getRateLimitTtl(3)).toBe(0);
    await queue.rateLimit(2000);
    const ttl = await queue.getRateLimitTtl();
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(2000);
    // A manual limit counts as a full window, whatever maxJobs says.
    expect(await queue.getRateLimitTtl(1000)).toBeGreaterThan(1000);
    expect(await queue.removeRateLimitKey()).toBe(1);
    expect(await queue.getRateLimitTtl()).toBe(-2);
    expect(await queue.removeRateLimitKey()).toBe(0);
  });

  it('counts a limiter window against maxJobs and the global max', async () => {
    const { queue, worker } = setup();
    await queue.setGlobalRateLimit(2, 5000);
    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'j', data: { n } })));
    const w = worker(null);
    await w.getNextJob('a');
    // One start in a window of max 2: not limited, unless maxJobs says 1 is the max.
    expect(await queue.getRateLimitTtl()).toBe(0);
    expect(await queue.getRateLimitTtl(1)).toBeGreaterThan(4000);
    await w.getNextJob('b');
    expect(await queue.getRateLimitTtl()).toBeGreaterThan(4000);
    expect(await queue.removeRateLimitKey()).toBe(1);
    expect(await queue.getRateLimitTtl()).toBe(0);
    expect((await w.getNextJob('c', { block: false }))?.data).toEqual({ n: 3 });
  });

  it('caps the event log at streams.events.maxLen, recorded in the meta by the last Queue opened', async () => {
    const { queue, connection, name } = setup();
    await queue.waitUntilReady();
    expect(() => new Queue(name, { connection, streams: { events: { maxLen: -1 } } })).toThrow(
      'streams.events.maxLen must be an integer of 0 or more (got -1)',
    );
    const capped = track(new Queue(name, { connection, streams: { events: { maxLen: 20 } } }));
    await capped.waitUntilReady();
    expect(await queue.getMeta()).toMatchObject({ maxLenEvents: 20 });
    // 300 adds write 600 events (300 stream entries on Redis, one per call): the cap keeps the log
    // near 20 (Redis trims whole stream nodes of ~100 entries; SQL stores trim every 100 events).
    for (let n = 0; n < 300; n++) await capped.add('e', { n });
    const left = await queue.trimEvents(0);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(200);
    // A Queue opened without the option writes BullMQ's default back, as BullMQ's does.
    const plain = track(new Queue(name, { connection }));
    await plain.waitUntilReady();
    expect(await queue.getMeta()).toMatchObject({ maxLenEvents: 10000 });
  });

  it('trims the event log and says how many entries went', async () => {
    const { queue } = setup();
    for (const n of [1, 2, 3, 4, 5]) await queue.add('e', { n });
    expect(await queue.trimEvents(1000)).toBe(0);
    expect(await queue.trimEvents(2)).toBeGreaterThan(0);
    expect(await queue.trimEvents(2)).toBe(0);
    expect(await queue.removeDeprecatedPriorityKey()).toBe(0);
    expect(await queue.recordJobCountsMetric('waiting')).toEqual({ waiting: 5 });
  });

  it('lists workers and queue events with BullMQ fields', async () => {
    const { queue, worker, connection, name } = setup();
    const named = worker(null, { name: 'reporter' });
    const unnamed = worker(null);
    const events = track(new QueueEvents(name, { connection }));
    await Promise.all([named.waitUntilReady(), unnamed.waitUntilReady(), events.waitUntilReady()]);
    const workers = await until(async () => {
      const list = await queue.getWorkers();
      return list.length === 2 ? list : undefined;
    });
    const base = `bull:${Buffer.from(name).toString('base64')}`;
    expect(workers.map((w) => w.rawname).sort()).toEqual([base, `${base}:w:reporter`].sort());
    expect(workers.every((w) => w.name === name)).toBe(true);
    expect(workers.find((w) => w.id === named.id)).toMatchObject({ workerName: 'reporter' });
    const listening = await queue.getQueueEvents();
    expect(listening).toHaveLength(1);
    expect(listening[0]).toMatchObject({ name, rawname: `${base}:qe` });
    await events.close();
    expect(await queue.getQueueEvents()).toEqual([]);
    expect(await queue.getWorkersCount()).toBe(2);
  });

  it('exports completed and failed totals to Prometheus', async () => {
    const { queue, worker } = setup();
    const empty = await queue.exportPrometheusMetrics();
    expect(empty).toContain(`bullmq_job_completed_total{queue="${queue.name}"} 0`);
    expect(empty).toContain('# TYPE bullmq_job_failed_total counter');
    await queue.addBulk([
      { name: 'ok', data: {} },
      { name: 'ok', data: {} },
      { name: 'bad', data: {} },
    ]);
    worker(
      async (job) => {
        if (job.name === 'bad') throw new Error('no');
      },
      { metrics: { maxDataPoints: 10 } },
    );
    await until(async () => (await queue.getJobCountByTypes('completed', 'failed')) === 3);
    const text = await queue.exportPrometheusMetrics({ env: 'test' });
    expect(text).toContain(`bullmq_job_completed_total{queue="${queue.name}", env="test"} 2`);
    expect(text).toContain(`bullmq_job_failed_total{queue="${queue.name}", env="test"} 1`);
  });

  it('emits what BullMQ emits for clean, and for progress set through the queue', async () => {
    const { queue } = setup();
    await queue.add('a', {});
    const cleaned = new Promise<[string[], string]>((resolve) =>
      queue.once('cleaned', (ids, type) => resolve([ids, type])),
    );
    await queue.clean(0, 0, 'waiting');
    expect(await cleaned).toEqual([['1'], 'wait']);

    const job = await queue.add('b', {});
    const progress = new Promise<unknown[]>((resolve) => queue.once('progress', (...args) => resolve(args)));
    await queue.updateJobProgress(job.id!, 42);
    expect(await progress).toEqual([job.id, 42]);
    await expect(queue.updateJobProgress('missing', 1)).rejects.toThrow('Missing key for job missing. updateProgress');
  });

  it('resets the delay of a promoted job', async () => {
    const { queue } = setup();
    const job = await queue.add('later', {}, { delay: 60_000 });
    expect((await queue.getJob(job.id!))?.delay).toBe(60_000);
    await job.promote();
    const stored = (await Job.fromId(queue, job.id!))!;
    expect(await stored.getState()).toBe('waiting');
    expect(stored.delay).toBe(0);
  });

  it('puts a job first among its priority when its priority changes with lifo', async () => {
    const { queue, worker } = setup();
    await queue.pause();
    await queue.add('first', {}, { priority: 16 });
    await queue.add('second', {}, { priority: 16 });
    const third = await queue.add('third', {}, { priority: 16 });
    await third.changePriority({ priority: 16, lifo: true });
    await queue.resume();
    const w = worker(null);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await w.getNextJob(`t${i}`, { block: false });
      order.push(job!.name);
    }
    expect(order).toEqual(['third', 'first', 'second']);
  });

  it('gives metrics as BullMQ: a point per minute before the newest, newest first', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2024-01-01T10:00:00Z'));
      const { queue, worker } = setup();
      // ms the clock moves while each job runs: jobs finish in minutes 0, 0, 1 and 4.
      const steps = [0, 0, 60_000, 180_000];
      await queue.addBulk(steps.map((_, i) => ({ name: 'j', data: { i } })));
      let done = 0;
      const w = worker(
        async (job) => {
          vi.setSystemTime(Date.now() + steps[job.data.i]);
        },
        { metrics: { maxDataPoints: 10 } },
      );
      // An event, not `until`: the faked clock jumps minutes, which would end a poll's deadline.
      await new Promise<void>((resolve) => w.on('completed', () => ++done === 4 && resolve()));
      const metrics = await queue.getMetrics('completed');
      expect(metrics.data).toEqual([0, 0, 1, 2]);
      expect(metrics.count).toBe(4);
      expect(metrics.meta).toMatchObject({ count: 4, prevCount: 3 });
      expect((await queue.getMetrics('completed', 1, 2)).data).toEqual([0, 1]);
      expect((await queue.getMetrics('completed', 2)).data).toEqual([1, 2]);
    } finally {
      vi.useRealTimers();
    }
  });
});
