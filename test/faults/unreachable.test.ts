import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, FlowProducer, Queue, Worker } from '../../src/index.js';
import { freePort, RedisServer } from '../support/redis-server.js';
import { queueName, until } from '../support/stores.js';

/**
 * A Redis that cannot be reached, or that refuses the credentials: calls fail within seconds with
 * the reason (bounded by the client's maxRetriesPerRequest, at once with enableOfflineQueue: false),
 * 'error' events say why meanwhile, and nothing sticks once Redis is there.
 */
describe('a Redis that cannot be reached', () => {
  let port: number;
  beforeAll(async () => {
    port = await freePort(); // nothing listens here
  });

  /** Runs `call`, resolving with how long it took to fail and the error. */
  async function failure(call: () => Promise<unknown>): Promise<{ ms: number; err: Error }> {
    const started = Date.now();
    const err = await call().then(
      () => new Error('the call should not succeed'),
      (e: Error) => e,
    );
    return { ms: Date.now() - started, err };
  }

  it('emits error events with the reason and rejects add within seconds (a URL)', async () => {
    const queue = new Queue(queueName(), { connection: `redis://127.0.0.1:${port}` });
    const events: Error[] = [];
    queue.on('error', (err) => events.push(err));
    try {
      const { ms, err } = await failure(() => queue.add('x', {}));
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${port} cannot be reached: .*ECONNREFUSED`));
      // The system error's code is on the error itself, as on the one BullMQ lets through.
      expect((err as ConnectionError).code).toBe('ECONNREFUSED');
      expect(ms).toBeLessThan(10_000);
      expect(events.some((e) => /ECONNREFUSED/.test(e.message))).toBe(true);
      // Still down: the next call fails at once instead of waiting out more retries.
      expect((await failure(() => queue.getJobCounts())).ms).toBeLessThan(1_000);
    } finally {
      await queue.close();
    }
  });

  it('takes `url` among the ioredis options, as BullMQ does (ioredis alone would go to localhost:6379)', async () => {
    const queue = new Queue(queueName(), {
      connection: { url: `redis://127.0.0.1:${port}`, maxRetriesPerRequest: 1 },
    });
    queue.on('error', () => undefined);
    try {
      const { err } = await failure(() => queue.add('x', {}));
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toContain(`127.0.0.1:${port}`);
    } finally {
      await queue.close();
    }
    expect(() => new Queue(queueName(), { connection: { url: 6379 } as never })).toThrow(/connection\.url must be/);
  });

  it("tells a Queue's and a Worker's error listeners of errors on a client the user passed, and lets go of it", async () => {
    const client = new Redis({ port, maxRetriesPerRequest: null, retryStrategy: () => 50 });
    const listenersBefore = client.listenerCount('error');
    const queue = new Queue(queueName(), { connection: client });
    const worker = new Worker(queue.name, null, { connection: client });
    const seen: Error[][] = [[], []];
    queue.on('error', (err) => seen[0].push(err));
    worker.on('error', (err) => seen[1].push(err));
    try {
      await until(
        () => seen.every((s) => s.some((e) => /ECONNREFUSED/.test(e.message))),
        10_000,
        'ECONNREFUSED on both',
      );
    } finally {
      await worker.close();
      await queue.close();
    }
    expect(client.listenerCount('error')).toBe(listenersBefore);
    client.on('error', () => undefined);
    client.disconnect();
  });

  it('fails at once with enableOfflineQueue: false, and after maxRetriesPerRequest attempts', async () => {
    const offline = new Queue(queueName(), { connection: { port, enableOfflineQueue: false } });
    const once = new Queue(queueName(), { connection: { port, maxRetriesPerRequest: 1 } });
    const flows = new FlowProducer({ connection: { port, maxRetriesPerRequest: 1 } });
    const flowErrors: Error[] = [];
    for (const emitter of [offline, once]) emitter.on('error', () => undefined);
    flows.on('error', (err) => flowErrors.push(err));
    try {
      const immediate = await failure(() => offline.add('x', {}));
      expect(immediate.err).toBeInstanceOf(ConnectionError);
      expect(immediate.ms).toBeLessThan(1_000);
      const bounded = await failure(() => once.add('x', {}));
      expect(bounded.err.message).toMatch(/1 connection attempts failed; maxRetriesPerRequest/);
      expect(bounded.ms).toBeLessThan(5_000);
      const flow = await failure(() =>
        flows.add({ name: 'p', queueName: 'q', children: [{ name: 'c', queueName: 'q' }] }),
      );
      expect(flow.err).toBeInstanceOf(ConnectionError);
      expect(flowErrors.some((e) => /ECONNREFUSED/.test(e.message))).toBe(true);
    } finally {
      await Promise.all([offline.close(), once.close(), flows.close()]);
    }
  });

  it('works once Redis is there: a failed wait is not kept, and a waiting worker starts', async () => {
    const connection = `redis://127.0.0.1:${port}`;
    const name = queueName();
    const queue = new Queue(name, { connection });
    const worker = new Worker(name, async (job) => job.data.n * 2, { connection, drainDelay: 1 });
    const workerErrors: Error[] = [];
    queue.on('error', () => undefined);
    worker.on('error', (err) => workerErrors.push(err));
    const server = new RedisServer();
    server.port = port;
    try {
      expect((await failure(() => queue.add('early', { n: 1 }))).err).toBeInstanceOf(ConnectionError);
      // A worker waits for as long as it takes (as BullMQ's), saying why meanwhile.
      await until(() => workerErrors.some((e) => /ECONNREFUSED/.test(e.message)), 10_000, 'a worker error event');
      await server.start();
      const job = await until(() => queue.add('late', { n: 21 }).catch(() => undefined), 20_000, 'an add once up');
      await until(async () => (await queue.getJob(job.id!))?.returnvalue === 42, 20_000, 'the job to run');
    } finally {
      await Promise.all([worker.close(), queue.close()]);
      await server.destroy();
    }
  });
});

describe('a Redis that refuses the credentials', () => {
  const server = new RedisServer(['--requirepass', 'right-password']);
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it('rejects add within seconds, naming the refusal', async () => {
    const queue = new Queue(queueName(), { connection: `redis://:wrong-password@127.0.0.1:${server.port}` });
    const events: Error[] = [];
    queue.on('error', (err) => events.push(err));
    try {
      const started = Date.now();
      const err = await queue.add('x', {}).then(
        () => new Error('the add should not succeed'),
        (e: Error) => e,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toMatch(/WRONGPASS|NOAUTH/);
      expect(err.message).not.toContain('wrong-password');
      expect(events.some((e) => /WRONGPASS|NOAUTH/.test(e.message))).toBe(true);
    } finally {
      await queue.close();
    }
  });
});
