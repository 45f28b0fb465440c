import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { AppControllerRoute, BullBoardQueues, IServerAdapter } from '@bull-board/api/dist/types.js';
import { describe, expect, it } from 'vitest';
import { DocketAdapter } from '../../src/dashboard/bull-board-adapter.js';
import type { Job } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

/** A server adapter that keeps bull-board's API routes so the test can call them like a server would. */
class RecordingServer implements IServerAdapter {
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

  async call(method: string, route: string, params: Record<string, string>, query: Record<string, unknown> = {}) {
    const found = this.routes.find(
      (r) => [r.method].flat().includes(method as never) && [r.route].flat().includes(route),
    );
    if (!found) throw new Error(`no route ${method} ${route}`);
    return found.handler({ queues: this.queues, uiConfig: {}, query, params, body: {}, headers: {} });
  }
}

describe.each(stores)('bull-board with DocketAdapter on $kind', (store) => {
  const { setup } = useQueues(store);

  it("lists a Docket queue's jobs through bull-board's API and retries a failed one", async () => {
    const { queue, worker, name } = setup();
    let healthy = false;
    worker(async (job: Job) => {
      if (job.data.flaky && !healthy) throw new Error('flaky');
      return { doubled: job.data.n * 2 };
    });
    await queue.addBulk([
      { name: 'ok', data: { n: 2 } },
      { name: 'flaky', data: { n: 3, flaky: true } },
    ]);
    await until(
      async () => (await queue.getFailedCount()) === 1 && (await queue.getCompletedCount()) === 1,
      10_000,
      'done',
    );

    // bull-board's own adapter refuses a queue that is not bullmq's: hence DocketAdapter.
    expect(() => new BullMQAdapter(queue as never)).toThrow(/non-BullMQ queue/);
    const server = new RecordingServer();
    createBullBoard({ queues: [new DocketAdapter(queue)], serverAdapter: server, options: { uiBasePath: '/unused' } });

    const listing = await server.call(
      'get',
      '/api/queues',
      {},
      { activeQueue: name, status: 'failed', page: '1', jobsPerPage: '10' },
    );
    const body = listing.body as { queues: any[] };
    expect(body.queues).toHaveLength(1);
    const board = body.queues[0];
    expect(board).toMatchObject({
      name,
      type: 'bullmq',
      isPaused: false,
      counts: expect.objectContaining({ completed: 1, failed: 1 }),
    });
    expect(board.jobs).toHaveLength(1);
    const failed = board.jobs[0];
    expect(failed).toMatchObject({ name: 'flaky', data: { n: 3, flaky: true }, failedReason: 'flaky', isFailed: true });

    const completed = await server.call(
      'get',
      '/api/queues',
      {},
      { activeQueue: name, status: 'completed', page: '1', jobsPerPage: '10' },
    );
    expect((completed.body as { queues: any[] }).queues[0].jobs[0]).toMatchObject({
      name: 'ok',
      returnValue: { doubled: 4 },
    });

    const one = await server.call('get', '/api/queues/:queueName/:jobId', { queueName: name, jobId: failed.id });
    expect(one.body).toMatchObject({ status: 'failed', job: { id: failed.id } });

    healthy = true;
    const retried = await server.call('put', '/api/queues/:queueName/:jobId/retry', {
      queueName: name,
      jobId: failed.id,
    });
    expect(retried.status).toBe(204);
    await until(async () => (await queue.getJobState(failed.id)) === 'completed', 10_000, 'retried job completed');

    const paused = await server.call('put', '/api/queues/:queueName/pause', { queueName: name });
    expect(paused.status ?? 200).toBeLessThan(300);
    expect(await queue.isPaused()).toBe(true);
    await server.call('put', '/api/queues/:queueName/resume', { queueName: name });
    expect(await queue.isPaused()).toBe(false);
  });
});
