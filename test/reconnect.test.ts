import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from '../src/index.js';
import { freePort, RedisServer } from './support/redis-server.js';
import { queueName, until } from './support/stores.js';

describe('Redis restart', () => {
  const server = new RedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it('lets a worker and QueueEvents resume on their own after redis-server restarts', async () => {
    const name = queueName();
    const connection = server.url;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(name, async (job) => job.data.n, { connection, drainDelay: 1 });
    const errors: unknown[] = [];
    for (const emitter of [queue, events, worker]) emitter.on('error', (err: unknown) => errors.push(err));
    const completedEvents = new Set<string>();
    events.on('completed', ({ jobId }: { jobId: string }) => completedEvents.add(jobId));
    try {
      await events.waitUntilReady();
      await queue.add('before', { n: 1 });
      await until(() => completedEvents.has('1'), 10_000, 'the first job');
      await server.stop();
      await server.start();
      await until(
        async () => {
          try {
            await queue.add('after', { n: 2 });
            return true;
          } catch {
            return false;
          }
        },
        15_000,
        'an add after the restart',
      );
      await until(() => completedEvents.size >= 2, 20_000, 'the job added after the restart');
      expect(await queue.getJobState('1')).toBe('completed');
      expect([...completedEvents].sort()).toEqual(['1', '2']);
    } finally {
      await Promise.all([worker.close(), events.close(), queue.close()]);
    }
  });
});

describe('Redis unreachable at start', () => {
  const server = new RedisServer();
  afterAll(() => server.destroy());

  it('lets a worker started before redis-server connect and work once it is up', async () => {
    server.port = await freePort();
    const connection = `redis://127.0.0.1:${server.port}`;
    const name = queueName();
    const worker = new Worker(name, async (job) => job.data.n, { connection, drainDelay: 1 });
    const errors: unknown[] = [];
    worker.on('error', (err) => errors.push(err));
    let queue: Queue | undefined;
    try {
      await until(() => errors.length > 0, 10_000, 'a connection error event');
      await server.start();
      queue = new Queue(name, { connection });
      await queue.add('x', { n: 7 });
      await until(async () => (await queue!.getJobState('1')) === 'completed', 20_000, 'the job');
      expect((await queue.getJob('1'))?.returnvalue).toBe(7);
    } finally {
      await worker.close();
      await queue?.close();
    }
  });
});

describe('a connection cut while a job runs', () => {
  const server = new RedisServer();
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it('retries the completion until the connection is back: the job completes once and runs once', async () => {
    const name = queueName();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection: server.url });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    let returned = false;
    const worker = new Worker(
      name,
      async () => {
        runs++;
        await gate;
        returned = true;
        return 'done';
      },
      { connection: client, drainDelay: 1, stalledInterval: 500, lockDuration: 5_000 },
    );
    const errors: Error[] = [];
    worker.on('error', (err) => errors.push(err));
    const completed: string[] = [];
    worker.on('completed', (job) => completed.push(job.id!));
    try {
      await queue.add('cut', {});
      await until(() => runs === 1, 10_000, 'the job to start');
      // The user's client is cut (BullMQ's disconnect()/connect()): the completion meets "Connection is closed."
      client.disconnect();
      release();
      await until(() => returned, 10_000, 'the processor to return');
      // Let the first completion attempt fail before the client comes back (a shorter wait only weakens the test).
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.connect();
      await until(() => completed.length === 1, 15_000, 'the completion once the client is back');
      expect(await queue.getJobState('1')).toBe('completed');
      expect(runs).toBe(1);
      expect(errors.filter((e) => /Connection is closed/.test(e.message))).toEqual([]);
    } finally {
      await worker.close();
      await queue.close();
      client.disconnect();
    }
  });
});

describe('a client closed under a worker', () => {
  const server = new RedisServer();
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it("retries quietly, as BullMQ's fetch loop, and works again once the client reconnects", async () => {
    const name = queueName();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    // Counts the commands the worker sent while its client was closed (they fail with "Connection is closed.").
    let refused = 0;
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((...args: Parameters<typeof send>) => {
      if (client.status === 'end') refused++;
      return send(...args);
    }) as typeof client.sendCommand;
    const queue = new Queue(name, { connection: server.url });
    const worker = new Worker(name, async (job) => job.data.n, { connection: client, drainDelay: 1 });
    const errors: Error[] = [];
    worker.on('error', (err) => errors.push(err));
    try {
      await worker.waitUntilReady();
      client.disconnect();
      await queue.add('while-closed', { n: 7 });
      await until(() => refused > 0, 10_000, 'a fetch on the closed client');
      await client.connect();
      await until(async () => (await queue.getJob('1'))?.returnvalue === 7, 15_000, 'the job once reconnected');
      expect(errors.map((e) => e.message)).not.toContain('Connection is closed.');
    } finally {
      await Promise.all([worker.close(), queue.close()]);
      client.disconnect();
    }
  });
});
