import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_CLOSED_ERROR_MSG,
  ConnectionClosedError,
  createIORedisClient,
  FlowProducer,
  isNotConnectionError,
  MetricsTime,
  Queue,
  QueueEvents,
  RateLimitError,
  UnrecoverableError,
  Worker,
} from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { queueName, stores, until } from '../support/stores.js';

describe.each(stores)('BullMQ parity extras on $kind', (store) => {
  const { setup, track } = useQueues(store);

  function abortable(signal?: AbortSignal) {
    return new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason));
    });
  }

  it('cancels a running job through its AbortSignal; it retries like any error', async () => {
    const { queue, worker } = setup();
    await queue.add('long', {}, { attempts: 2 });
    let starts = 0;
    const w = worker(async (_job, _token, signal) => {
      if (++starts === 1) return abortable(signal);
      return 'second run';
    });
    // The processor's own start: the store shows the job active a round trip before the worker hears of it.
    await until(() => starts === 1, 10_000, 'the start');
    expect(w.cancelJob('1', 'user asked')).toBe(true);
    expect(w.cancelJob('nope')).toBe(false);
    await new Promise((resolve) => w.once('completed', resolve));
    const job = await queue.getJob('1');
    expect(job?.failedReason).toBe('user asked');
    expect(job?.attemptsMade).toBe(2);
  });

  it('cancels all jobs; UnrecoverableError fails them at once', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([1, 2].map((n) => ({ name: 'j', data: { n }, opts: { attempts: 5 } })));
    let started = 0;
    const w = worker(
      async (_job, _token, signal) => {
        started++;
        await abortable(signal).catch(() => {
          throw new UnrecoverableError('cancelled for good');
        });
      },
      { concurrency: 2 },
    );
    await until(() => started === 2, 10_000, 'two running jobs');
    w.cancelAllJobs('shutdown');
    await until(async () => (await queue.getFailedCount()) === 2, 10_000, 'two failures');
    expect((await queue.getJob('1'))?.attemptsMade).toBe(1);
  });

  it('goes on after a completion whose fetch met the limiter, with global concurrency and a dynamic limit', async () => {
    const { queue, worker } = setup();
    await queue.setGlobalConcurrency(1);
    await queue.addBulk(Array.from({ length: 4 }, (_, i) => ({ name: 'j', data: { i } })));
    // drainDelay 60 s: a worker that waited for its drain timeout instead of the limit would miss the test's time.
    worker(
      async (job) => {
        if (job.attemptsStarted === 1) {
          await queue.rateLimit(100);
          throw new RateLimitError();
        }
      },
      { concurrency: 10, drainDelay: 60, limiter: { max: 1, duration: 50 } },
    );
    await until(async () => (await queue.getCompletedCount()) === 4, 20_000, 'every job');
    expect((await queue.getJobs(['completed'])).map((j) => j.attemptsStarted)).toEqual([2, 2, 2, 2]);
  });

  it('records per-minute metrics', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(Array.from({ length: 7 }, (_, i) => ({ name: 'j', data: { fail: i < 2 } })));
    let finished = 0;
    const w = worker(
      async (job) => {
        if (job.data.fail) throw new Error('x');
      },
      { metrics: { maxDataPoints: MetricsTime.ONE_HOUR } },
    );
    w.on('completed', () => finished++);
    w.on('failed', () => finished++);
    await until(() => finished === 7, 10_000, 'seven jobs');
    // All finished within a minute or two: the newest minute is still open (BullMQ's points).
    const completed = await queue.getMetrics('completed');
    expect(completed.meta.count).toBe(5);
    expect(completed.data.length).toBeLessThanOrEqual(1);
    expect(completed.data.reduce((a, b) => a + b, 0)).toBe(completed.meta.prevCount);
    const failed = await queue.getMetrics('failed', 0, 9);
    expect(failed.meta.count).toBe(2);
    expect(failed.count).toBe(failed.data.length);
    const text = await queue.exportPrometheusMetrics({ env: 'test' });
    expect(text).toContain(`bullmq_job_count{queue="${queue.name}", state="completed", env="test"} 5`);
    expect(text).toContain('# TYPE bullmq_job_count gauge');
  });

  it('caps active jobs across workers with a global concurrency', async () => {
    const { queue, worker } = setup();
    await queue.setGlobalConcurrency(2);
    expect(await queue.getGlobalConcurrency()).toBe(2);
    await queue.addBulk(Array.from({ length: 12 }, () => ({ name: 'j', data: {} })));
    let running = 0;
    let peak = 0;
    let done = 0;
    const processor = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      done++;
    };
    worker(processor, { concurrency: 3 });
    worker(processor, { concurrency: 3 });
    await until(async () => (await queue.isMaxed()) || done > 0, 10_000, 'the queue to fill');
    await until(() => done === 12, 15_000, 'all jobs');
    expect(peak).toBe(2);
    await queue.removeGlobalConcurrency();
    expect(await queue.getGlobalConcurrency()).toBeNull();
    expect(await queue.isMaxed()).toBe(false);
  });

  it('applies a global rate limit to every worker', async () => {
    const { queue, worker } = setup();
    await queue.setGlobalRateLimit(2, 300);
    expect(await queue.getGlobalRateLimit()).toEqual({ max: 2, duration: 300 });
    await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'j', data: {} })));
    const starts: number[] = [];
    worker(
      async () => {
        starts.push(Date.now());
      },
      { concurrency: 6 },
    );
    await until(() => starts.length === 6, 15_000, 'all jobs');
    starts.sort((a, b) => a - b);
    for (let i = 0; i < 6; i++) expect(starts[i] - starts[0]).toBeGreaterThanOrEqual(Math.floor(i / 2) * 300 - 25);
    await queue.removeGlobalRateLimit();
    expect(await queue.getGlobalRateLimit()).toBeNull();
  });

  it('counts per priority and lists live workers', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {}, opts: { priority: 3 } },
      { name: 'c', data: {}, opts: { priority: 3 } },
      { name: 'd', data: {}, opts: { priority: 5 } },
    ]);
    expect(await queue.getCountsPerPriority([0, 3, 5, 9])).toEqual({ '0': 1, '3': 2, '5': 1, '9': 0 });
    const w = worker(null, { name: 'reporter' });
    await until(async () => (await queue.getWorkersCount()) === 1, 10_000, 'the worker to register');
    expect((await queue.getWorkers())[0]).toMatchObject({ id: w.id, name: queue.name, workerName: 'reporter' });
    await w.close();
    expect(await queue.getWorkersCount()).toBe(0);
    expect(await queue.getQueueEvents()).toEqual([]);
  });

  it('unlinks a child from its parent and removes unprocessed children', async () => {
    const { connection } = setup();
    const flow = track(new FlowProducer({ connection }));
    const parents = queueName('p');
    const kids = queueName('k');
    const kidsQueue = track(new Queue(kids, { connection }));
    const parentsQueue = track(new Queue(parents, { connection }));
    const tree = await flow.add({
      name: 'parent',
      queueName: parents,
      children: [
        { name: 'a', queueName: kids, opts: { jobId: 'a' } },
        { name: 'b', queueName: kids, opts: { jobId: 'b' } },
      ],
    });
    const a = (await kidsQueue.getJob('a'))!;
    expect(await a.removeChildDependency()).toBe(true);
    expect(await parentsQueue.getJobState(tree.job.id!)).toBe('waiting-children');
    const parent = (await parentsQueue.getJob(tree.job.id!))!;
    await parent.removeUnprocessedChildren();
    expect(await kidsQueue.getJob('b')).toBeUndefined();
    expect(await kidsQueue.getJob('a')).toBeDefined();
    expect((await parent.getDependencies()).unprocessed).toEqual([]);
  });

  it("exposes a backend: the Redis client, and a store a FlowProducer shares as BullMQ's bull-board does", async () => {
    const { queue, name } = setup();
    const client = await queue.getBackend().client;
    if (store.kind === 'redis') expect(await client!.ping()).toBe('PONG');
    else expect(client).toBeUndefined();
    // Shares the queue's store: nothing of its own to close, so it is not tracked and closing it keeps the queue open.
    const flows = new FlowProducer(queue.opts, () => queue.getBackend());
    const tree = await flows.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
    expect((await flows.getFlow({ queueName: name, id: tree.job.id! }))?.children).toHaveLength(1);
    await flows.close();
    expect(await queue.getWaitingChildrenCount()).toBe(1);
  });

  it("names BullMQ's keys on every class: `keys[suffix]` is `<prefix>:<name>:<suffix>`", async () => {
    const { queue, worker, name, connection } = setup({ prefix: 'pfx' });
    const events = track(new QueueEvents(name, { connection, prefix: 'pfx' }));
    for (const holder of [queue, worker(null, { prefix: 'pfx' }), events]) {
      expect(holder.keys['']).toBe(`pfx:${name}:`);
      expect(holder.keys.wait).toBe(`pfx:${name}:wait`);
      expect(holder.keys['waiting-children']).toBe(`pfx:${name}:waiting-children`);
      expect(holder.keys.de).toBe(holder.toKey('de'));
      expect(Object.keys(holder.keys)).toHaveLength(19);
    }
    // The '' key is the parent prefix BullMQ code builds job keys from.
    const parent = await queue.add('parent', {});
    const child = await queue.add('child', {}, { parent: { id: parent.id!, queue: queue.keys[''].slice(0, -1) } });
    expect(child.parentKey).toBe(`${queue.keys['']}${parent.id}`);
  });

  it('refuses a backendFactory argument and waits with Worker.delay', async () => {
    const connection = store.connection();
    expect(() => new Queue('x', { connection }, () => undefined)).toThrow(/backendFactory/);
    expect(() => new Worker('x', null, { connection }, () => undefined)).toThrow(/backendFactory/);
    expect(() => new QueueEvents('x', { connection }, () => undefined)).toThrow(/backendFactory/);
    expect(() => new FlowProducer({ connection }, () => undefined)).toThrow(/backendFactory/);
    const { worker } = setup();
    const w = worker(null);
    const started = Date.now();
    await w.delay(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('an ioredis client that prefixes keys itself', () => {
  it("is refused by every class with BullMQ's words; the queue's `prefix` option is the way", async () => {
    const { inject } = await import('vitest');
    const refusal = 'BullMQ: ioredis does not support ioredis prefixes, use the prefix option instead.';
    const client = new Redis(inject('redisUrl'), { keyPrefix: 'mine:', lazyConnect: true, maxRetriesPerRequest: null });
    const cluster = new Redis.Cluster([{ host: '127.0.0.1', port: 1 }], { keyPrefix: 'mine:', lazyConnect: true });
    try {
      const name = queueName();
      expect(() => new Queue(name, { connection: client })).toThrow(refusal);
      expect(() => new Worker(name, async () => undefined, { connection: client })).toThrow(refusal);
      expect(() => new QueueEvents(name, { connection: client })).toThrow(refusal);
      expect(() => new FlowProducer({ connection: client })).toThrow(refusal);
      expect(() => new Queue(name, { connection: cluster })).toThrow(refusal);
      // Nothing was sent: the client stays as the user left it.
      expect(client.status).toBe('wait');
      // ioredis options with a keyPrefix are not a client of the user's: Docket makes its own, as BullMQ.
      const queue = new Queue(name, { connection: { ...redisOptions(inject('redisUrl')), keyPrefix: 'mine:' } });
      try {
        const job = await queue.add('x', { a: 1 });
        expect((await queue.getJob(job.id!))?.data).toEqual({ a: 1 });
      } finally {
        await queue.close();
      }
    } finally {
      client.disconnect();
      cluster.disconnect();
    }
  });
});

function redisOptions(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

describe('the connection-error helpers BullMQ exports', () => {
  it('tell connection trouble from other errors, and keep what closed a connection', () => {
    expect(CONNECTION_CLOSED_ERROR_MSG).toBe('Connection is closed.');
    const cause = new Error('socket hang up');
    const closed = new ConnectionClosedError(undefined, cause);
    expect(closed.message).toBe('Connection is closed.');
    expect(closed.cause).toBe(cause);
    expect(new ConnectionClosedError('gone').cause).toBeUndefined();
    expect(isNotConnectionError(closed)).toBe(false);
    expect(isNotConnectionError(new Error('Connection is closed.'))).toBe(false);
    expect(isNotConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(false);
    expect(isNotConnectionError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isNotConnectionError(new Error('the job failed'))).toBe(true);
    expect(isNotConnectionError(new UnrecoverableError('no'))).toBe(true);
  });
});

describe('createIORedisClient', () => {
  it('is accepted as a connection', async () => {
    const { inject } = await import('vitest');
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = new Queue(queueName(), { connection: createIORedisClient(client) });
    try {
      const job = await queue.add('x', { a: 1 });
      expect((await queue.getJob(job.id!))?.data).toEqual({ a: 1 });
    } finally {
      await queue.close();
      client.disconnect();
    }
  });
});
