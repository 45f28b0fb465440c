import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from '../../src/index.js';
import { sleep } from '../support/processes.js';
import { RedisServer } from '../support/redis-server.js';
import { ReplyDropper } from '../support/reply-dropper.js';
import { queueName, until } from '../support/stores.js';

/**
 * Resent moves (guarantees.md "A Redis connection is cut"): when a connection drops after Redis ran
 * a call but before its reply arrived, ioredis sends the call again on the new connection. Every
 * move of a worker (complete, fail, retry, delay, and the fetch that may come with them) answers a
 * resent call with the first call's answer, so a job finished once is reported once.
 */
describe('Redis: moves resent after a lost reply', () => {
  const server = new RedisServer();
  let proxy: ReplyDropper;
  beforeAll(async () => {
    await server.start();
    proxy = new ReplyDropper(server.port);
    await proxy.start();
  });
  afterAll(async () => {
    await proxy.close();
    await server.destroy();
  });

  /**
   * A queue and a worker whose connections go through the proxy, with `count` jobs added; `lose(script)`
   * drops the reply to the next call of that script (its function name ends in `_<script>`).
   */
  async function proxied(count: number, opts: { attempts?: number } = {}) {
    const name = queueName('resent');
    const queue = new Queue(name, { connection: proxy.url });
    const worker = new Worker(name, null, { connection: proxy.url, drainDelay: 1 });
    const errors: unknown[] = [];
    for (const x of [queue, worker]) x.on('error', (err) => errors.push(err));
    for (let i = 0; i < count; i++) await queue.add('j', { i }, opts);
    const lose = (script: string) => proxy.dropReplyTo(`_${script}\r\n`);
    const close = () => Promise.all([worker.close(), queue.close()]);
    const state = (id: string) => queue.getJobState(id);
    return { queue, worker, errors, lose, close, state };
  }

  it('answers a resent completion as the first, with the same next job and no other taken', async () => {
    const { worker, queue, lose, close, state } = await proxied(3);
    try {
      const job = (await worker.getNextJob('t1', { block: false }))!;
      const lost = lose('complete');
      const next = await job.moveToCompleted('done', 't1', true);
      await lost;
      expect(next[1]).toBe('2');
      expect(await state('1')).toBe('completed');
      expect((await queue.getJob('1'))?.attemptsMade).toBe(1);
      const second = (await queue.getJob('2'))!;
      expect([await state('2'), second.attemptsStarted, second.token]).toEqual(['active', 1, 't1']);
      expect(await state('3')).toBe('waiting');
    } finally {
      await close();
    }
  });

  it('answers a resent failure, retry and delay as the first', async () => {
    const { worker, queue, lose, close, state } = await proxied(4, { attempts: 2 });
    try {
      const job1 = (await worker.getNextJob('t1', { block: false }))!;
      let lost = lose('fail');
      await job1.moveToFailed(new Error('retry me'), 't1'); // attempts left: back to waiting at once
      await lost;
      expect([await state('1'), (await queue.getJob('1'))?.attemptsMade]).toEqual(['waiting', 1]);
      const job2 = (await worker.getNextJob('t2', { block: false }))!;
      expect(job2.id).toBe('2');
      lost = lose('fail');
      await job2.moveToFailed(new UnrecoverableError('for good'), 't2');
      await lost;
      expect([await state('2'), (await queue.getJob('2'))?.attemptsMade]).toEqual(['failed', 1]);
      const job3 = (await worker.getNextJob('t3', { block: false }))!;
      lost = lose('moveToDelayed');
      await job3.moveToDelayed(Date.now() + 60_000, 't3');
      await lost;
      expect(await state(job3.id!)).toBe('delayed');
      const job4 = (await worker.getNextJob('t4', { block: false }))!;
      lost = lose('moveToWait');
      await job4.moveToWait('t4');
      await lost;
      expect(await state(job4.id!)).toBe('waiting');
    } finally {
      await close();
    }
  });

  it('answers a resent move to waiting-children as the first', async () => {
    const { worker, queue, lose, close, state } = await proxied(1);
    const children = new Queue(queueName('children'), { connection: server.url });
    try {
      await children.add('child', {}, { parent: { id: '1', queue: queue.qualifiedName } });
      const parent = (await worker.getNextJob('t1', { block: false }))!;
      const lost = lose('moveToWaitingChildren');
      expect(await parent.moveToWaitingChildren('t1')).toBe(true);
      await lost;
      expect(await state('1')).toBe('waiting-children');
    } finally {
      await children.close();
      await close();
    }
  });

  it('gives a resent fetch the job the first one took, and takes no second one', async () => {
    const { worker, queue, lose, close, state } = await proxied(2);
    try {
      const lost = lose('fetchNext');
      const job = (await worker.getNextJob('t1', { block: false }))!;
      await lost;
      expect(job.id).toBe('1');
      expect([await state('1'), (await queue.getJob('1'))?.attemptsStarted]).toEqual(['active', 1]);
      expect(await state('2')).toBe('waiting');
    } finally {
      await close();
    }
  });

  it("emits completed, and no error, when a worker's completion is resent", async () => {
    const name = queueName('resent-worker');
    const queue = new Queue(name, { connection: server.url });
    const worker = new Worker(name, async () => 'done', { connection: proxy.url, drainDelay: 1, autorun: false });
    const errors: Error[] = [];
    const completed: string[] = [];
    worker.on('error', (err) => errors.push(err));
    worker.on('completed', (job: Job) => completed.push(job.id!));
    try {
      await queue.add('j', {});
      await worker.waitUntilReady();
      const lost = proxy.dropReplyTo('_complete\r\n');
      void worker.run();
      await lost;
      await until(() => completed.length > 0, 10_000, 'the completed event');
      expect(await queue.getJobState('1')).toBe('completed');
      expect(completed).toEqual(['1']);
      expect(errors.filter((err) => /job/i.test(err.message))).toEqual([]);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('adds once when an add is resent', async () => {
    const { queue, lose, close } = await proxied(0);
    try {
      const lost = lose('addJobs');
      const job = await queue.add('j', {});
      await lost;
      expect(job.id).toBe('1');
      expect(await queue.getJobCountByTypes('waiting')).toBe(1);
    } finally {
      await close();
    }
  });

  it('emits completed and failed exactly once per finished job while connections are cut every 50 ms', {
    timeout: 180_000,
  }, async () => {
    const name = queueName('cuts');
    const connection = server.url;
    const queue = new Queue(name, { connection });
    queue.on('error', () => undefined);
    const admin = new Redis(server.url);
    const kinds = ['ok', 'fail', 'retry', 'step'] as const;
    const n = Number(process.env.CUT_JOBS ?? 4000);
    // Expected starts and worker events per kind: a retried job fails once, then completes; a step
    // job moves itself to delayed once (DelayedError: no event), then completes.
    const expected = {
      ok: { starts: 1, completed: 1, failed: 0 },
      fail: { starts: 1, completed: 0, failed: 1 },
      retry: { starts: 2, completed: 1, failed: 1 },
      step: { starts: 2, completed: 1, failed: 0 },
    };
    await queue.addBulk(
      Array.from({ length: n }, (_, i) => {
        const kind = kinds[i % kinds.length];
        return { name: kind, data: { kind }, opts: kind === 'retry' ? { attempts: 2 } : {} };
      }),
    );
    const completed = new Map<string, number>();
    const failed = new Map<string, number>();
    const jobErrors: string[] = [];
    const count = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);
    const workers = [1, 2].map(() => {
      const w = new Worker(
        name,
        async (job: Job, token?: string) => {
          await sleep(job.attemptsStarted % 3);
          if (job.name === 'fail' || (job.name === 'retry' && job.attemptsMade === 0)) throw new Error('no');
          if (job.name === 'step' && job.attemptsStarted === 1) {
            await job.moveToDelayed(Date.now() + 5, token);
            throw new DelayedError();
          }
          return job.id;
        },
        // A lock that lapses in a few seconds: a job taken twice by one resent fetch would stall
        // and run again within the test (attemptsStarted, stalledCounter below).
        { connection, concurrency: 8, drainDelay: 1, lockDuration: 3000, stalledInterval: 500 },
      );
      w.on('completed', (job: Job) => count(completed, job.id!));
      w.on('failed', (job: Job | undefined) => job && count(failed, job.id!));
      // Dropped connections are reported too; errors about a job are what must not happen.
      w.on('error', (err: Error) => {
        if (/job/i.test(err.message)) jobErrors.push(err.message);
      });
      return w;
    });
    let kills = 0;
    let cutting = true;
    const cutter = (async () => {
      while (cutting) {
        await sleep(50);
        kills += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => 0));
      }
    })();
    try {
      await until(
        async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === n,
        150_000,
        'every job to finish',
      );
    } finally {
      cutting = false;
      await cutter;
      await Promise.all(workers.map((w) => w.close()));
    }
    const jobs = await queue.getJobs(['completed', 'failed'], 0, -1);
    await queue.close();
    await admin.quit();
    const wrong: string[] = [];
    for (const job of jobs) {
      const want = expected[job.name as keyof typeof expected];
      const got = {
        starts: job.attemptsStarted,
        completed: completed.get(job.id!) ?? 0,
        failed: failed.get(job.id!) ?? 0,
      };
      if (JSON.stringify(got) !== JSON.stringify(want) || job.stalledCounter !== 0) {
        wrong.push(`${job.id} ${job.name}: ${JSON.stringify(got)} stalled ${job.stalledCounter}`);
      }
    }
    const summary = `${kills} connections cut; ${jobErrors.length} errors about a job; ${wrong.length} jobs reported or started wrongly`;
    expect(kills, summary).toBeGreaterThan(50);
    expect(jobs.length, summary).toBe(n);
    expect(jobErrors.slice(0, 5), summary).toEqual([]);
    expect(wrong.slice(0, 10), summary).toEqual([]);
  });
});
