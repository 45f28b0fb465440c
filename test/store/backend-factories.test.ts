import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  createPostgresBackend,
  createRedisBackend,
  FlowProducer,
  getDefaultBackendFactory,
  Queue,
  QueueEvents,
  setDefaultBackendFactory,
  ValidationError,
  Worker,
} from '../../src/index.js';
import { queueName, until } from '../support/stores.js';

/**
 * BullMQ v6's backend factories as Docket takes them: `setDefaultBackendFactory` (BullMQ's PostgreSQL
 * guide: "using it everywhere by default"), a factory wrapped in a function of the user's (as BullMQ's
 * own PostgreSQL tests do), and `createRedisBackend`, the default, which leaves `connection` to choose.
 */
const url = () => inject('postgresUrl');
const schema = `factories_${Math.random().toString(36).slice(2, 10)}`;
const open: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(x: T): T => {
  open.push(x);
  return x;
};
afterEach(async () => {
  setDefaultBackendFactory();
  await Promise.all(open.splice(0).map((x) => x.close()));
});

describe('backend factories', () => {
  it('answers createRedisBackend as the default until another is set, and refuses what is not a factory', () => {
    expect(getDefaultBackendFactory()).toBe(createRedisBackend);
    setDefaultBackendFactory(createPostgresBackend);
    expect(getDefaultBackendFactory()).toBe(createPostgresBackend);
    setDefaultBackendFactory();
    expect(getDefaultBackendFactory()).toBe(createRedisBackend);
    expect(() => setDefaultBackendFactory(42)).toThrow(ValidationError);
    expect(getDefaultBackendFactory()).toBe(createRedisBackend);
  });

  it('makes every instance made after setDefaultBackendFactory(createPostgresBackend) use PostgreSQL', async () => {
    setDefaultBackendFactory(createPostgresBackend);
    const name = queueName();
    const connection = { connectionString: url(), schema };
    const queue = track(new Queue(name, { connection }));
    const events = track(new QueueEvents(name, { connection }));
    const worker = track(new Worker(name, async (job) => job.data.n + 1, { connection }));
    const flows = track(new FlowProducer({ connection }));
    for (const instance of [queue, events, worker]) expect(instance.store.kind).toBe('postgres');
    await events.waitUntilReady();
    const job = await queue.add('inc', { n: 1 });
    expect(await job.waitUntilFinished(events, 10_000)).toBe(2);
    await flows.add({
      name: 'p',
      queueName: name,
      data: { n: 0 },
      children: [{ name: 'c', queueName: name, data: { n: 5 } }],
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 3, 10_000, 'the flow');
    // The default applies to what the instance is given: a SQLite URL is refused as createPostgresBackend refuses it.
    expect(() => new Queue(name, { connection: 'sqlite::memory:' })).toThrow(/postgres:\/\//);
    setDefaultBackendFactory();
    const local = track(new Queue(name, { connection: 'sqlite::memory:' }));
    expect(local.store.kind).toBe('sqlite');
  });

  it('takes a function of the user that calls createPostgresBackend, as a default or as the last argument', async () => {
    const connection = { connectionString: url(), schema };
    const calls: { name: string; blocking?: boolean }[] = [];
    const wrapped = (name: string, opts: object, options?: { blocking?: boolean }) => {
      calls.push({ name, blocking: options?.blocking });
      return createPostgresBackend(name, { ...opts, connection });
    };
    setDefaultBackendFactory(wrapped);
    const name = queueName();
    // No connection at all: the wrapper supplies it.
    const queue = track(new Queue(name));
    const worker = track(new Worker(name, async () => 'ok'));
    const flows = track(new FlowProducer());
    expect(queue.store.kind).toBe('postgres');
    expect(worker.store.kind).toBe('postgres');
    expect(calls.map((c) => [c.name, c.blocking])).toEqual([
      [name, false],
      [name, true],
      ['', undefined],
    ]);
    await queue.add('one', {});
    await flows.add({ name: 'p', queueName: name, children: [{ name: 'c', queueName: name }] });
    await until(async () => (await queue.getJobCounts('completed')).completed === 3, 10_000, 'the jobs');
    setDefaultBackendFactory();
    const direct = track(new Queue(name, {}, wrapped));
    expect(await direct.getJobCounts('completed')).toEqual({ completed: 3 });
  });

  it('shares a store through () => queue.getBackend(): closing the sharer leaves the owner open', async () => {
    const owner = track(new Queue(queueName(), { connection: 'sqlite::memory:' }));
    const sharer = new Queue(owner.name, {}, () => owner.getBackend());
    expect(sharer.store).toBe(owner.store);
    await sharer.add('via-sharer', {});
    await sharer.close();
    expect(await owner.count()).toBe(1);
    expect(() => new Queue(owner.name, {}, () => ({ not: 'a backend' }))).toThrow(/backendFactory/);
  });
});
