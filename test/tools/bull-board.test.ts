import { createBullBoard } from '@bull-board/api';
import type { AppControllerRoute, BullBoardQueues, IServerAdapter } from '@bull-board/api/dist/types.js';
import { describe, expect, it, vi } from 'vitest';
import { FlowProducer, type Job, Queue } from '../../src/index.js';
import { bullBoardAdapterOnDocket } from '../support/bullmq-alias.js';
import { useQueues } from '../support/fixture.js';
import { queueName, stores, until } from '../support/stores.js';

/** bull-board's API routes, called as its server adapters call them (request parsing and response schemas included). */
class BoardRoutes implements IServerAdapter {
  queues!: BullBoardQueues;
  routes: AppControllerRoute[] = [];
  setQueues(queues: BullBoardQueues) {
    this.queues = queues;
    return this;
  }
  setViewsPath() {
    return this;
  }
  setStaticPath() {
    return this;
  }
  setEntryRoute() {
    return this;
  }
  setErrorHandler() {
    return this;
  }
  setApiRoutes(routes: AppControllerRoute[]) {
    this.routes = routes;
    return this;
  }
  setUIConfig() {
    return this;
  }

  async call(
    method: string,
    route: string,
    params: Record<string, string> = {},
    { query = {}, body = {} }: { query?: Record<string, unknown>; body?: Record<string, unknown> } = {},
  ): Promise<{ status: number; body: any }> {
    const found = this.routes.find(
      (r) => [r.method].flat().includes(method as never) && [r.route].flat().includes(route),
    );
    if (!found) throw new Error(`no route ${method} ${route}`);
    const res = await found.handler({ queues: this.queues, uiConfig: {}, query, params, body, headers: {} });
    return { status: res.status ?? 200, body: res.body };
  }

  /** The board's listing with `name` as the open queue showing `status`. */
  async queue(name: string, status = 'latest') {
    const res = await this.call('get', '/api/queues', {}, { query: { activeQueue: name, status, page: '1' } });
    expect(res.status).toBe(200);
    return (res.body.queues as any[]).find((q) => q.name === name);
  }
}

/** Every state BullMQ 6 has, in the board's order: a Docket queue must show exactly these tabs. */
const BULLMQ_6_STATUSES = ['active', 'waiting', 'waiting-children', 'prioritized', 'completed', 'failed', 'delayed'];

describe.each(stores)("bull-board's BullMQAdapter on Docket ($kind)", (store) => {
  const { setup, track } = useQueues(store);
  const { BullMQAdapter } = bullBoardAdapterOnDocket();

  function board(...adapters: InstanceType<typeof BullMQAdapter>[]): BoardRoutes {
    const routes = new BoardRoutes();
    createBullBoard({
      queues: adapters,
      serverAdapter: routes,
      options: { uiBasePath: '/unused', validateResponses: true },
    });
    return routes;
  }

  it("lists the queue with BullMQ's tabs and counts, shows a failed job and retries it", async () => {
    const { queue, worker, name } = setup();
    let healthy = false;
    worker(async (job: Job) => {
      await job.log(`attempt ${job.attemptsMade + 1}`);
      if (job.data.flaky && !healthy) throw new Error('upstream unavailable');
      return { doubled: job.data.n * 2 };
    });
    await queue.addBulk([
      { name: 'ok', data: { n: 2 } },
      { name: 'flaky', data: { n: 3, flaky: true } },
    ]);
    await until(async () => (await queue.getFailedCount()) === 1 && (await queue.getCompletedCount()) === 1);
    const routes = board(new BullMQAdapter(queue));

    const listed = await routes.queue(name);
    expect(listed).toMatchObject({ type: 'bullmq', isPaused: false, statuses: ['latest', ...BULLMQ_6_STATUSES] });
    expect(Object.keys(listed.counts).sort()).toEqual([...BULLMQ_6_STATUSES].sort());
    expect(listed.counts).toMatchObject({ completed: 1, failed: 1, waiting: 0 });

    const [failed] = (await routes.queue(name, 'failed')).jobs;
    expect(failed).toMatchObject({ name: 'flaky', data: { n: 3, flaky: true }, isFailed: true });
    expect(failed.failedReason).toBe('upstream unavailable');
    expect(failed.stacktrace[0]).toContain('upstream unavailable');
    const [completed] = (await routes.queue(name, 'completed')).jobs;
    expect(completed).toMatchObject({ name: 'ok', returnValue: { doubled: 4 } });

    const one = await routes.call('get', '/api/queues/:queueName/:jobId', { queueName: name, jobId: failed.id });
    expect(one.body).toMatchObject({ status: 'failed', job: { id: failed.id, attempts: 1 } });
    const logs = await routes.call('get', '/api/queues/:queueName/:jobId/logs', { queueName: name, jobId: failed.id });
    expect(logs.body).toEqual(['attempt 1']);

    healthy = true;
    const retried = await routes.call('put', '/api/queues/:queueName/:jobId/retry', {
      queueName: name,
      jobId: failed.id,
    });
    expect(retried.status).toBe(204);
    await until(async () => (await queue.getJobState(failed.id)) === 'completed', 10_000, 'retried job completed');
    expect((await routes.queue(name)).counts).toMatchObject({ completed: 2, failed: 0 });
  });

  it('promotes a delayed job, cleans a state, pauses and resumes the queue', async () => {
    const { queue, name } = setup();
    const routes = board(new BullMQAdapter(queue));
    // Added a minute ago: the board cleans jobs older than 5 s.
    const old = { delay: 600_000, timestamp: Date.now() - 60_000 };
    const late = await queue.add('late', {}, old);
    await queue.add('later', {}, old);
    expect((await routes.queue(name, 'delayed')).jobs.map((j: any) => j.name).sort()).toEqual(['late', 'later']);

    const promoted = await routes.call('put', '/api/queues/:queueName/:jobId/promote', {
      queueName: name,
      jobId: late.id!,
    });
    expect(promoted.status).toBe(204);
    expect(await queue.getJobState(late.id!)).toBe('waiting');
    await routes.call('put', '/api/queues/:queueName/promote', { queueName: name });
    expect((await routes.queue(name)).counts).toMatchObject({ delayed: 0, waiting: 2 });

    const paused = await routes.call('put', '/api/queues/:queueName/pause', { queueName: name });
    expect(paused.status).toBeLessThan(300);
    expect(await queue.isPaused()).toBe(true);
    // As in BullMQ 6, a paused queue's jobs stay under "waiting": no "paused" tab or count.
    const whilePaused = await routes.queue(name);
    expect(whilePaused).toMatchObject({ isPaused: true, counts: { waiting: 2 } });
    expect(whilePaused.statuses).not.toContain('paused');
    await routes.call('put', '/api/queues/:queueName/resume', { queueName: name });
    expect(await queue.isPaused()).toBe(false);

    const fresh = await queue.add('fresh', {});
    const cleaned = await routes.call('put', '/api/queues/:queueName/clean/:queueStatus', {
      queueName: name,
      queueStatus: 'waiting',
    });
    expect(cleaned.status).toBe(200);
    expect(await queue.getRanges('waiting')).toEqual([fresh.id]);
  });

  it("draws a flow's graph from its parent and from a child in another queue", async () => {
    const { queue, connection, name } = setup();
    const childQueueName = queueName('child');
    const childQueue = track(new Queue(childQueueName, { connection }));
    const flows = track(new FlowProducer({ connection }));
    const tree = await flows.add({
      name: 'parent',
      queueName: name,
      children: [
        { name: 'one', queueName: childQueueName, data: { n: 1 } },
        { name: 'two', queueName: childQueueName, data: { n: 2 } },
      ],
    });
    const routes = board(new BullMQAdapter(queue), new BullMQAdapter(childQueue));

    const fromParent = await routes.call('get', '/api/queues/:queueName/:jobId/flow', {
      queueName: name,
      jobId: tree.job.id!,
    });
    expect(fromParent.status).toBe(200);
    expect(fromParent.body).toMatchObject({
      nodeId: tree.job.id,
      isFlowNode: true,
      flowRoot: { id: tree.job.id, name: 'parent', queueName: name, state: 'waiting-children' },
    });
    expect(fromParent.body.flowRoot.dependencies).toMatchObject({ unprocessed: 2, processed: 0 });
    const children = fromParent.body.flowRoot.children as any[];
    expect(children.map((c) => [c.name, c.queueName, c.state]).sort()).toEqual([
      ['one', childQueueName, 'waiting'],
      ['two', childQueueName, 'waiting'],
    ]);

    const child = tree.children![0].job;
    const fromChild = await routes.call('get', '/api/queues/:queueName/:jobId/flow', {
      queueName: childQueueName,
      jobId: child.id!,
    });
    expect(fromChild.body).toMatchObject({ nodeId: child.id, isFlowNode: true, flowRoot: { id: tree.job.id } });

    const plain = await queue.add('plain', {});
    const alone = await routes.call('get', '/api/queues/:queueName/:jobId/flow', { queueName: name, jobId: plain.id! });
    expect(alone.body).toMatchObject({ isFlowNode: false });
  });

  it('lists workers by name and shows and changes rate limits and global concurrency', async () => {
    const { queue, worker, name } = setup();
    const routes = board(new BullMQAdapter(queue));
    const running = worker(async () => 'ok', { name: 'mailer' });
    await running.waitUntilReady();
    const workers = await until(
      async () => {
        const res = await routes.call('get', '/api/queues/:queueName/workers', { queueName: name });
        return res.body.workers?.length ? res.body.workers : undefined;
      },
      15_000,
      'the worker to be listed',
    );
    expect(workers).toEqual([expect.objectContaining({ name: 'mailer', addr: expect.any(String) })]);
    expect((await routes.queue(name)).hasWorkers).toBe(true);

    const set = await routes.call(
      'put',
      '/api/queues/:queueName/rate-limit',
      { queueName: name },
      { body: { max: 5, duration: 1000 } },
    );
    expect(set.status).toBe(200);
    expect(await queue.getGlobalRateLimit()).toEqual({ max: 5, duration: 1000 });
    const shown = await routes.call('get', '/api/queues/:queueName/rate-limit', { queueName: name });
    expect(shown.body).toEqual({ supported: true, rateLimit: { max: 5, duration: 1000 } });

    await queue.rateLimit(60_000);
    expect((await routes.queue(name)).activeRateLimitTtl).toBeGreaterThan(50_000);
    await routes.call('put', '/api/queues/:queueName/rate-limit/release', { queueName: name });
    expect((await routes.queue(name)).activeRateLimitTtl).toBe(0);

    await routes.call('put', '/api/queues/:queueName/concurrency', { queueName: name }, { body: { concurrency: 3 } });
    expect(await queue.getGlobalConcurrency()).toBe(3);
    expect((await routes.queue(name)).globalConcurrency).toBe(3);
  });

  it('shows and runs job schedulers, adds and edits jobs, empties and obliterates the queue', async () => {
    const { queue, name } = setup({ defaultJobOptions: { attempts: 2 } });
    const routes = board(new BullMQAdapter(queue));
    const armed = await queue.upsertJobScheduler('hourly', { every: 3_600_000 }, { name: 'tick', data: { n: 1 } });
    const { schedulers } = (await routes.call('get', '/api/job-schedulers', {}, { query: { queueName: name } })).body;
    expect(schedulers).toEqual([
      expect.objectContaining({
        id: 'hourly',
        name: 'tick',
        every: 3_600_000,
        queueName: name,
        nextRunJobId: armed!.id,
      }),
    ]);
    expect((await routes.queue(name)).jobSchedulerCount).toBe(1);
    // The run a scheduler holds cannot be removed on its own, as in BullMQ.
    const removeArmed = await routes.call('put', '/api/queues/:queueName/:jobId/clean', {
      queueName: name,
      jobId: armed!.id!,
    });
    expect(removeArmed.body).toMatchObject({ code: 'JOB_BELONGS_TO_JOB_SCHEDULER', jobSchedulerId: 'hourly' });
    const ran = await routes.call('put', '/api/queues/:queueName/job-schedulers/:schedulerId/run', {
      queueName: name,
      schedulerId: 'hourly',
    });
    expect(ran.body.job).toMatchObject({ name: 'tick', data: { n: 1 } });

    const defaults = await routes.call('get', '/api/queues/:queueName/default-job-options', { queueName: name });
    expect(defaults.body).toMatchObject({ attempts: 2 });
    const added = await routes.call(
      'post',
      '/api/queues/:queueName/add',
      { queueName: name },
      {
        body: { name: 'by-hand', data: { to: 'ada' }, options: { delay: 60_000 } },
      },
    );
    expect(added.body).toMatchObject({ status: 'delayed', job: { name: 'by-hand', data: { to: 'ada' } } });
    const id = added.body.job.id as string;
    const params = { queueName: name, jobId: id };
    await routes.call('patch', '/api/queues/:queueName/:jobId/update-data', params, {
      body: { jobData: { to: 'bob' } },
    });
    await routes.call('patch', '/api/queues/:queueName/:jobId/delay', params, {
      body: { runAt: Date.now() + 120_000 },
    });
    const edited = (await queue.getJob(id))!;
    expect(edited.data).toEqual({ to: 'bob' });
    expect(edited.delay).toBeGreaterThan(100_000);
    const metrics = await routes.call('get', '/api/queues/:queueName/metrics', { queueName: name });
    expect(metrics.body.completed.data).toEqual([]);

    await routes.call('put', '/api/queues/:queueName/empty', { queueName: name });
    // Emptying keeps the scheduler's own run and delayed jobs, as BullMQ's drain does.
    expect(await queue.getRanges('waiting')).toEqual([armed!.id]);
    expect(await queue.getJobState(id)).toBe('delayed');
    const running = await routes.call('put', '/api/queues/:queueName/obliterate', { queueName: name });
    expect(running.body.error).toMatchObject({ key: 'ERRORS.QUEUE_NOT_PAUSED' });
    await routes.call('put', '/api/queues/:queueName/pause', { queueName: name });
    const gone = await routes.call(
      'put',
      '/api/queues/:queueName/obliterate',
      { queueName: name },
      { body: { force: true } },
    );
    expect(gone.status).toBeLessThan(300);
    expect(await queue.getJob(id)).toBeUndefined();
  });

  it(
    store.kind === 'redis' ? "shows the Redis server's stats" : `says the ${store.kind} store has no Redis stats`,
    async () => {
      const { queue } = setup();
      const routes = board(new BullMQAdapter(queue));
      const stats = await routes.call('get', '/api/redis/stats');
      if (store.kind === 'redis') {
        expect(stats.status).toBe(200);
        expect(stats.body).toMatchObject({ backend: 'redis', version: expect.stringMatching(/^\d+\.\d+/) });
        expect(stats.body.clients.connected).toBeGreaterThan(0);
      } else {
        expect(stats.status).toBe(404);
        expect(stats.body.error).toMatchObject({ key: 'ERRORS.REDIS_STATS_UNAVAILABLE' });
      }
    },
  );

  it('accepts queues of a second copy of Docket (a CommonJS build loaded beside the ESM one)', async () => {
    vi.resetModules();
    const copy = await import('../../src/index.js');
    expect(copy.Queue).not.toBe(Queue);
    const { BullMQAdapter: CopyAdapter } = bullBoardAdapterOnDocket(copy);
    const { queue, connection, name } = setup();
    const flows = track(new FlowProducer({ connection }));
    const tree = await flows.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
    const routes = board(new CopyAdapter(queue));

    expect((await routes.queue(name)).statuses).toEqual(['latest', ...BULLMQ_6_STATUSES]);
    const graph = await routes.call('get', '/api/queues/:queueName/:jobId/flow', {
      queueName: name,
      jobId: tree.job.id!,
    });
    expect(graph.body).toMatchObject({
      isFlowNode: true,
      flowRoot: { children: [{ name: 'child', state: 'waiting' }] },
    });
  });

  it('beside the real bullmq (Docket not installed as bullmq) shows everything but the flow graph', async () => {
    const { BullMQAdapter: RealAdapter } = bullBoardAdapterOnDocket(null);
    const { queue, connection, name } = setup();
    const flows = track(new FlowProducer({ connection }));
    const tree = await flows.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
    const routes = board(new RealAdapter(queue));

    expect((await routes.queue(name)).counts).toMatchObject({ waiting: 1, 'waiting-children': 1 });
    const graph = await routes.call('get', '/api/queues/:queueName/:jobId/flow', {
      queueName: name,
      jobId: tree.job.id!,
    });
    expect(graph).toMatchObject({ status: 200, body: { isFlowNode: false } });
  });
});
