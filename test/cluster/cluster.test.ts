import type { Cluster } from 'ioredis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QueueRegistry } from '../../src/dashboard/registry.js';
import { FlowProducer, Queue, QueueEvents, ValidationError, Worker } from '../../src/index.js';
import { hashTag, keySlot } from '../../src/store/redis/cluster.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { queueName, until } from '../support/stores.js';

// Docket on a real Redis Cluster (3 masters, one replica each) started for this file. Queue names
// carry hash tags chosen so that each master holds some of them (`tagsPerMaster`).

const cluster = new RedisCluster(3);
let connection: Cluster;
/** One hash tag per master, fresh per call: `{<label>-<n>}` whose slot that master serves. */
let tagsPerMaster: (label: string) => string[];

beforeAll(async () => {
  await cluster.start();
  connection = cluster.client({ redisOptions: { maxRetriesPerRequest: null } });
  await connection.call('PING');
  tagsPerMaster = (label) => {
    const base = queueName(label);
    const found = new Map<string, string>();
    for (let n = 0; found.size < 3; n++) {
      const tag = `${base}-${n}`;
      const master = connection.slots[keySlot(`{${tag}}`)][0];
      if (!found.has(master)) found.set(master, `{${tag}}`);
    }
    return [...found.values()];
  };
}, 60_000);

afterAll(async () => {
  connection?.disconnect();
  await cluster.destroy();
});

/** A connection to one node of the cluster, by port (the caller disconnects it). */
function node(port: number): Redis {
  return new Redis(port, '127.0.0.1');
}

/** The master serving `key`'s slot, as the cluster tells. */
function masterPortOf(key: string): Promise<number> {
  return cluster.masterOf(keySlot(key));
}

async function libraries(port: number): Promise<string[]> {
  const n = node(port);
  try {
    const list = (await n.call('FUNCTION', 'LIST')) as unknown[][];
    return list.map((lib) => String(lib[1]));
  } finally {
    n.disconnect();
  }
}

describe('Docket on Redis Cluster', () => {
  it('computes hash tags and slots as the cluster does', async () => {
    const keys = ['bull:emails:', '{bull}:emails:', 'bull:{emails}:', 'a{}b{c}:', '{}{x}:', 'a{b:c}d:', 'é{ü}:', 'x{y'];
    for (const key of keys) expect(keySlot(key)).toBe(Number(await connection.call('CLUSTER', 'KEYSLOT', key)));
    expect(keys.map((key) => hashTag(key))).toEqual([
      undefined,
      'bull',
      'emails',
      undefined,
      undefined,
      'b:c',
      'ü',
      undefined,
    ]);
  });

  it('loads its functions on every master: adds on a fresh cluster succeed on every master', async () => {
    const queues = tagsPerMaster('fresh').map((tag) => new Queue(tag, { connection }));
    try {
      for (const queue of queues) await queue.add('x', { n: 1 });
      for (const queue of queues) expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      const masters = connection.nodes('master').map((m) => Number(m.options.port));
      expect(masters).toHaveLength(3);
      for (const port of masters) expect((await libraries(port)).some((l) => l.startsWith('docket_'))).toBe(true);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  it('loads them again on the master that answered "function not found"', async () => {
    const [tag] = tagsPerMaster('flushed');
    const queue = new Queue(tag, { connection });
    try {
      await queue.add('before', {});
      const port = await masterPortOf(`bull:${tag}:`);
      const n = node(port);
      await n.call('FUNCTION', 'FLUSH');
      n.disconnect();
      expect(await libraries(port)).toEqual([]);
      const job = await queue.add('after', {});
      expect(await queue.getJobState(job.id!)).toBe('waiting');
      expect((await libraries(port)).some((l) => l.startsWith('docket_'))).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('runs jobs, delays, flows and QueueEvents on queues spread over the masters', async () => {
    const tags = tagsPerMaster('run');
    const prefix = tags[0];
    const queues = tags.map((tag) => new Queue(queueName(), { connection, prefix: tag }));
    const events = new QueueEvents(queues[1].name, { connection, prefix: tags[1] });
    const seen: string[] = [];
    const workers = queues.map(
      (q, i) => new Worker(q.name, async (job) => `${job.name}-${i}`, { connection, prefix: tags[i], concurrency: 4 }),
    );
    const flows = new FlowProducer({ connection, prefix });
    try {
      await events.waitUntilReady();
      events.on('completed', ({ jobId }) => seen.push(jobId));
      for (const q of queues) {
        await q.addBulk(Array.from({ length: 20 }, (_, n) => ({ name: `j${n}`, data: {} })));
        await q.add('later', {}, { delay: 200 });
      }
      const tree = await flows.add({
        name: 'parent',
        queueName: queues[0].name,
        children: [{ name: 'child', queueName: queues[0].name, data: {} }],
      });
      await until(
        async () => (await Promise.all(queues.map((q) => q.getCompletedCount()))).every((n, i) => n === (i ? 21 : 23)),
        20_000,
        'every job on every master',
      );
      expect(await tree.job.getChildrenValues()).toEqual({
        [`${prefix}:${queues[0].name}:${tree.children![0].job.id}`]: 'child-0',
      });
      await until(() => seen.length === 21, 10_000, 'QueueEvents of the second queue');
    } finally {
      await Promise.all([...workers, ...queues, events, flows].map((x) => x.close()));
    }
  });

  it('cancels an active job on every master: its worker hears the notice and stops it', async () => {
    const tags = tagsPerMaster('cancel');
    const queues = tags.map((tag) => new Queue(queueName(), { connection, prefix: tag }));
    const failed: string[] = [];
    const workers = queues.map((q, i) => {
      const w = new Worker(q.name, () => new Promise(() => {}), { connection, prefix: tags[i] });
      w.on('failed', (job, err) => failed.push(`${job?.id}:${err.name}`));
      return w;
    });
    try {
      const jobs = await Promise.all(queues.map((q) => q.add('long', {}, { attempts: 3 })));
      for (const [i, q] of queues.entries()) {
        await until(async () => (await q.getJobState(jobs[i].id!)) === 'active', 20_000, 'the job to start');
        expect(await q.cancelJob(jobs[i].id!, 'stop')).toBe(true);
      }
      // The notices, not the lock renewal (15 s away): well within it.
      await until(() => failed.length === 3, 10_000, 'three cancelled attempts');
      expect(failed.every((f) => f.endsWith(':JobCancelledError'))).toBe(true);
      for (const [i, q] of queues.entries()) expect(await q.getJobState(jobs[i].id!)).toBe('failed');
    } finally {
      await Promise.all([...workers, ...queues].map((x) => x.close()));
    }
  });

  it('refuses up front a queue without a hash tag, and a flow or child across tags', async () => {
    const name = queueName();
    expect(() => new Queue(name, { connection })).toThrow(ValidationError);
    expect(() => new Queue(name, { connection })).toThrow(
      `Queue "bull:${name}" cannot run on Redis Cluster: its keys need one {hash tag} to live in one slot. ` +
        `Put the tag in the prefix (prefix: '{bull}') or in the queue name ('{${name}}'), as with BullMQ.`,
    );
    expect(() => new Worker(name, async () => undefined, { connection, autorun: false })).toThrow(/\{hash tag\}/);
    expect(() => new QueueEvents(name, { connection, autorun: false })).toThrow(/\{hash tag\}/);
    // A tag that closes after the queue's `<q>:` prefix would split its keys: refused as well.
    expect(() => new Queue('half{open', { connection })).toThrow(/\{hash tag\}/);
    // Accepted in the prefix or in the name, as BullMQ accepts them.
    const accepted = [new Queue(name, { connection, prefix: '{bull}' }), new Queue(`{${name}}`, { connection })];
    await Promise.all(accepted.map((q) => q.close()));

    const [a, b] = tagsPerMaster('flow');
    const flows = new FlowProducer({ connection, prefix: a });
    const other = new Queue('other', { connection, prefix: b });
    try {
      const across = { name: 'p', queueName: 'parent', children: [{ name: 'c', queueName: 'child', prefix: b }] };
      await expect(flows.add(across)).rejects.toThrow(
        `A flow spans queues "${a}:parent" and "${b}:child", which Redis Cluster keeps in different slots`,
      );
      const inB = { name: 'p', queueName: 'parent', prefix: b };
      await expect(flows.addBulk([{ name: 'p', queueName: 'parent' }, inB])).rejects.toThrow(/different slots/);
      const parent = await flows.add({ name: 'p', queueName: 'parent', children: [{ name: 'c', queueName: 'child' }] });
      await expect(other.add('c', {}, { parent: { id: parent.job.id!, queue: `${a}:parent` } })).rejects.toThrow(
        /must share one \{hash tag\}/,
      );
      expect(await flows.add({ name: 'p', queueName: 'untagged', prefix: 'plain' }).catch((e) => e)).toBeInstanceOf(
        ValidationError,
      );
      // Nothing of a refused flow was written: only the accepted flow's two jobs exist.
      expect(await other.count()).toBe(0);
      const parents = new Queue('parent', { connection, prefix: a });
      expect(await parents.getJobCounts('waiting-children', 'waiting')).toEqual({ 'waiting-children': 1, waiting: 0 });
      await parents.close();
    } finally {
      await Promise.all([flows.close(), other.close()]);
    }
  });

  it('lists the queues and removes orphans on every master (SCAN reaches each)', async () => {
    const prefix = queueName('prefix');
    const tags = tagsPerMaster('list');
    const queues = tags.map((tag) => new Queue(tag, { connection, prefix }));
    const registry = new QueueRegistry(connection, prefix);
    try {
      for (const q of queues) {
        await q.add('x', {});
        // An orphan as a crash of a non-atomic writer could leave it: a job hash in no list.
        await connection.hset(`${q.qualifiedName}:lost`, 'name', 'lost', 'data', '{}', 'opts', '{}', 'timestamp', 1);
      }
      expect((await registry.names()).names).toEqual([...tags].sort());
      for (const q of queues) {
        expect(await q.removeOrphanedJobs()).toBe(1);
        expect(await q.getJobCounts('waiting')).toEqual({ waiting: 1 });
      }
    } finally {
      await registry.close();
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  it('warns about maxRetriesPerRequest only when the Cluster does not set it to null', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const name = `{${queueName()}}`;
    const loose = cluster.client();
    const workers = [
      new Worker(name, async () => undefined, { connection, autorun: false }),
      new Worker(name, async () => undefined, { connection: loose, autorun: false }),
    ];
    try {
      const calls = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('maxRetriesPerRequest'));
      expect(calls).toHaveLength(1);
    } finally {
      warn.mockRestore();
      await Promise.all(workers.map((w) => w.close()));
      loose.disconnect();
    }
  });

  it('warns about an evicting maxmemory-policy on any master (CONFIG GET reaches each)', async () => {
    const [tag] = tagsPerMaster('evict');
    const port = await masterPortOf(`bull:${tag}:`);
    const n = node(port);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const store = new RedisStore(connection);
    try {
      await n.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await store.ready();
      const calls = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('maxmemory-policy'));
      expect(calls).toEqual([expect.stringContaining('"allkeys-lru"')]);
    } finally {
      warn.mockRestore();
      await n.config('SET', 'maxmemory-policy', 'noeviction');
      n.disconnect();
      await store.close();
    }
  });

  it('keeps every acknowledged job through a manual failover; workers go on by themselves', async () => {
    const tags = tagsPerMaster('failover');
    const queues = tags.map((tag) => new Queue(tag, { connection }));
    const workers = tags.map(
      (tag) => new Worker(tag, async (job) => job.data.n, { connection, concurrency: 8, drainDelay: 1 }),
    );
    const errors: unknown[] = [];
    for (const w of [...workers, ...queues]) w.on('error', (err) => errors.push(err));
    const acked: string[][] = tags.map(() => []);
    let adding = true;
    let n = 0;
    // A producer adding all along; an add that fails during the failover is not acknowledged, and retried.
    const producer = (async () => {
      while (adding) {
        const i = n % queues.length;
        try {
          const job = await queues[i].add('j', { n });
          acked[i].push(job.id!);
          n++;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    try {
      await until(() => n >= 150, 20_000, 'adds before the failover');
      const key = `bull:${tags[0]}:`;
      const oldMaster = await masterPortOf(key);
      const replicaPort = await cluster.replicaOf(keySlot(key));
      const replica = node(replicaPort);
      await replica.call('CLUSTER', 'FAILOVER');
      await until(
        async () => /role:master/.test(await replica.info('replication')),
        20_000,
        'the replica to take over',
      );
      replica.disconnect();
      const atFailover = n;
      await until(() => n >= atFailover + 150, 30_000, 'adds after the failover');
      adding = false;
      await producer;
      expect(await masterPortOf(key)).not.toBe(oldMaster);
      await until(
        async () => {
          const counts = await Promise.all(queues.map((q) => q.getCompletedCount()));
          return counts.every((c, i) => c >= acked[i].length);
        },
        30_000,
        'every acknowledged job to complete',
      );
      for (const [i, q] of queues.entries()) {
        const completed = new Set((await q.getCompleted(0, -1)).map((j) => j.id));
        expect(acked[i].filter((id) => !completed.has(id))).toEqual([]);
      }
      // A blocked wait the failover ended (UNBLOCKED) is a wake-up, not an error.
      expect(errors.map(String)).toEqual([]);
    } finally {
      adding = false;
      await producer;
      await Promise.all([...workers, ...queues].map((x) => x.close()));
      await cluster.waitUntilHealthy();
    }
  }, 90_000);

  it('follows a queue whose slot moves to a new master: loads the functions there, workers go on', async () => {
    const [tag] = tagsPerMaster('reshard');
    const key = `bull:${tag}:`;
    const queue = new Queue(tag, { connection });
    const worker = new Worker(tag, async (job) => job.name, { connection, drainDelay: 1 });
    const errors: unknown[] = [];
    for (const x of [queue, worker]) x.on('error', (err) => errors.push(err));
    try {
      await queue.add('before', {});
      await until(async () => (await queue.getCompletedCount()) === 1, 10_000, 'the job before the move');
      const port = await cluster.addMaster();
      expect(await libraries(port)).toEqual([]);
      await cluster.moveSlot(keySlot(key), port);
      expect(await masterPortOf(key)).toBe(port);
      const job = await queue.add('after', {});
      expect((await libraries(port)).some((l) => l.startsWith('docket_'))).toBe(true);
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'the job after the move');
      expect(await queue.getJobCounts('completed', 'waiting', 'active')).toEqual({
        completed: 2,
        waiting: 0,
        active: 0,
      });
      expect(errors.map(String)).toEqual([]);
    } finally {
      await Promise.all([worker.close(), queue.close()]);
    }
  }, 60_000);
});
