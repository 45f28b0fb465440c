import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from '../../src/index.js';
import { sleep } from '../support/processes.js';
import { RedisServer } from '../support/redis-server.js';
import { queueName, until } from '../support/stores.js';

/**
 * Redis outages (guarantees.md "Redis restarts" and "A connection is cut"): a redis-server with an
 * fsync-always append-only file is killed and restarted, or every client connection is killed, while
 * jobs are added and processed. Every acknowledged add survives, workers and QueueEvents carry on by
 * themselves, no job stays active, and no job is completed twice.
 */
describe('Redis outages', () => {
  const server = new RedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  async function harness(name: string) {
    const connection = server.url;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const completedEvents = new Map<string, number>();
    events.on('completed', ({ jobId }: { jobId: string }) =>
      completedEvents.set(jobId, (completedEvents.get(jobId) ?? 0) + 1),
    );
    const errors: unknown[] = [];
    for (const e of [queue, events]) e.on('error', (err) => errors.push(err));
    await events.waitUntilReady();
    const workers = [1, 2].map(() => {
      const w = new Worker(
        name,
        async (job) => {
          await sleep(job.data.i % 5);
          return job.data.i;
        },
        { connection, concurrency: 4, drainDelay: 1, lockDuration: 1500, stalledInterval: 300, maxStalledCount: 10 },
      );
      w.on('error', (err) => errors.push(err));
      return w;
    });
    const close = async () => {
      await Promise.all(workers.map((w) => w.close()));
      await events.close();
      await queue.close();
    };
    return { queue, events, workers, completedEvents, errors, close };
  }

  /** Adds one job at a time until `stop()`; records the ids of adds that resolved. */
  function producer(queue: Queue) {
    const acked: string[] = [];
    let attempted = 0;
    let stopped = false;
    const done = (async () => {
      for (let i = 0; !stopped; i++) {
        attempted++;
        try {
          const job = await queue.add('j', { i });
          acked.push(job.id!);
        } catch {
          await sleep(20); // refused while Redis is away: not acknowledged, try the next one
        }
        if (i % 10 === 0) await sleep(1);
      }
    })();
    return {
      acked,
      attempted: () => attempted,
      stop: async () => {
        stopped = true;
        await done;
      },
    };
  }

  async function settle(h: Awaited<ReturnType<typeof harness>>, acked: string[], label: string) {
    const counts = () => h.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    await until(
      async () => {
        const c = await counts();
        return c.active + c.waiting + c.prioritized + c.delayed === 0;
      },
      45_000,
      `${label}: every job to finish`,
    ).catch(async (err) => {
      throw new Error(`${err.message}: ${JSON.stringify(await counts())}`);
    });
    const missing: string[] = [];
    for (const id of acked) if ((await h.queue.getJobState(id)) !== 'completed') missing.push(id);
    expect(missing, `${label}: acknowledged jobs not completed`).toEqual([]);
    await until(() => acked.every((id) => h.completedEvents.has(id)), 20_000, `${label}: completed events`);
    const twice = [...h.completedEvents].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice, `${label}: jobs with two completed events`).toEqual([]);
    const jobs = await h.queue.getJobs(['completed'], 0, -1);
    const rerun = jobs.filter((j) => j.attemptsMade !== 1).map((j) => `${j.id}:${j.attemptsMade}`);
    expect(rerun, `${label}: jobs completed more than once`).toEqual([]);
    return counts();
  }

  it('keeps every acknowledged add and resumes by itself after a hard restart', { timeout: 120_000 }, async () => {
    const h = await harness(queueName('restart'));
    const p = producer(h.queue);
    try {
      await until(() => p.acked.length >= 300, 20_000, 'adds before the restart');
      await server.stop(true); // SIGKILL: only the fsync'd append-only file survives
      await sleep(300);
      await server.start();
      const before = p.acked.length;
      await until(() => p.acked.length >= before + 300, 30_000, 'adds after the restart');
      await p.stop();
      const counts = await settle(h, p.acked, 'restart');
      // Nothing acknowledged was lost. (That nothing beyond what was attempted appears is
      // regressions.test.ts "resent-add": an add in flight at the kill is resent, and answered once.)
      expect(counts.completed).toBeGreaterThanOrEqual(p.acked.length);
      // QueueEvents saw the jobs added after the restart too.
      expect(h.completedEvents.has(p.acked[p.acked.length - 1])).toBe(true);
    } finally {
      await p.stop();
      await h.close();
    }
  });

  it('carries on when every client connection is killed again and again', { timeout: 120_000 }, async () => {
    const h = await harness(queueName('cut'));
    const admin = new Redis(server.url);
    const p = producer(h.queue);
    let kills = 0;
    try {
      await until(() => p.acked.length >= 100, 20_000, 'the first adds');
      for (let i = 0; i < 10; i++) {
        await sleep(100 + Math.random() * 200);
        // Every normal client but this one (blocking connections of workers and QueueEvents too).
        const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
        kills += killed;
      }
      const before = p.acked.length;
      await until(() => p.acked.length >= before + 100, 20_000, 'adds after the cuts');
      await p.stop();
      const counts = await settle(h, p.acked, 'connection cuts');
      expect(kills).toBeGreaterThan(10);
      expect(counts.completed).toBeGreaterThanOrEqual(p.acked.length);
      // That an add whose reply was lost never becomes two jobs: regressions.test.ts "resent-add"; that a
      // resent move or fetch gets the first answer: resent-moves.test.ts.
    } finally {
      await p.stop();
      await admin.quit();
      await h.close();
    }
  });
});
