import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job, Worker } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { isolated, stores, until } from '../support/stores.js';
import { hasListQueues } from './cli-harness.js';
import { useDashboards } from './dashboard-harness.js';

describe.each(stores)('dashboard API on $kind', (store) => {
  const { setup, track } = useQueues(isolated(store, 4));
  const { serve } = useDashboards();

  it('serves the page, queue counts, paged job lists and job detail', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async (job: Job) => {
      await job.log('hello');
      await job.updateProgress(50);
      await job.step('prepare', () => ({ ready: true }));
      if (job.data.fail) throw new Error('boom');
      return job.data.n;
    });
    await queue.addBulk([
      ...Array.from({ length: 5 }, (_, n) => ({ name: 'ok', data: { n } })),
      { name: 'bad', data: { fail: true } },
    ]);
    await until(
      async () => (await queue.getCompletedCount()) === 5 && (await queue.getFailedCount()) === 1,
      10_000,
      'processed',
    );
    await w.close();
    const d = await serve({ connection, queues: [name] });

    const page = await d.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('<base href="/admin/">');
    expect((await d.get('/elsewhere/x')).status).toBe(418);

    const queues = (await d.get('/api/queues')).json();
    expect(queues.readOnly).toBe(false);
    // The store may list other queues too (the Redis of the test run is shared).
    expect(queues.queues.find((q: { name: string }) => q.name === name)).toEqual(
      expect.objectContaining({
        name,
        paused: false,
        counts: expect.objectContaining({ completed: 5, failed: 1, waiting: 0 }),
      }),
    );

    const first = (await d.get(`/api/queues/${name}/jobs?state=completed&page=1&pageSize=2`)).json();
    expect(first).toMatchObject({ state: 'completed', page: 1, pageSize: 2, total: 5 });
    expect(first.jobs).toHaveLength(2);
    const third = (await d.get(`/api/queues/${name}/jobs?state=completed&page=3&pageSize=2`)).json();
    expect(third.jobs).toHaveLength(1);
    const ids = new Set([...first.jobs, ...third.jobs].map((j: { id: string }) => j.id));
    expect(ids.size).toBe(3);
    expect((await d.get(`/api/queues/${name}/jobs?state=bogus`)).status).toBe(400);

    const failed = (await d.get(`/api/queues/${name}/jobs?state=failed`)).json().jobs[0];
    const detail = (await d.get(`/api/queues/${name}/jobs/${failed.id}`)).json();
    expect(detail).toMatchObject({
      state: 'failed',
      failedReason: 'boom',
      progress: 50,
      logs: ['hello'],
      data: { fail: true },
    });
    expect(detail.stacktrace[0]).toContain('boom');
    expect(detail.steps).toEqual({ prepare: { ready: true } });
    expect((await d.get(`/api/queues/${name}/jobs/missing`)).status).toBe(404);
  });

  it('retries, promotes, removes, pauses, resumes and cleans through the API', async () => {
    const { queue, connection, name } = setup();
    const d = await serve({ connection, queues: [name] });
    const delayed = await queue.add('later', {}, { delay: 3_600_000 });
    expect((await d.post(`/api/queues/${name}/jobs/${delayed.id}/promote`)).status).toBe(200);
    expect(await queue.getJobState(delayed.id!)).toBe('waiting');
    expect((await d.post(`/api/queues/${name}/jobs/${delayed.id}/promote`)).status).toBe(409);
    expect((await d.post(`/api/queues/${name}/jobs/${delayed.id}/remove`)).status).toBe(200);
    expect(await queue.getJob(delayed.id!)).toBeUndefined();

    expect((await d.post(`/api/queues/${name}/pause`)).json).toMatchObject({ paused: true });
    expect(await queue.isPaused()).toBe(true);
    expect((await d.post(`/api/queues/${name}/resume`)).json).toMatchObject({ paused: false });

    await queue.add('x', {});
    const fetcher = track(new Worker(name, null, { connection }));
    const job = (await fetcher.getNextJob('tok'))!;
    await job.moveToFailed(new Error('nope'), 'tok');
    expect((await d.post(`/api/queues/${name}/jobs/${job.id}/retry`)).status).toBe(200);
    expect(await queue.getJobState(job.id!)).toBe('waiting');
    const again = (await fetcher.getNextJob('tok2'))!;
    await again.moveToCompleted('done', 'tok2', false);
    expect((await d.post(`/api/queues/${name}/clean`, { state: 'completed', grace: 3_600_000 })).json.cleaned).toBe(0);
    expect((await d.post(`/api/queues/${name}/clean`, { state: 'completed', grace: 0 })).json.cleaned).toBe(1);
    expect((await d.post(`/api/queues/${name}/explode`)).status).toBe(404);
  });

  it('cancels an active job held by a worker (its worker stops it), and refuses finished ones', async () => {
    const { queue, connection, name } = setup();
    const d = await serve({ connection, queues: [name] });
    const w = track(new Worker(name, () => new Promise(() => {}), { connection, drainDelay: 1 }));
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const job = await queue.add('long', {}, { attempts: 3 });
    await until(async () => (await queue.getJobState(job.id!)) === 'active', 10_000, 'active');
    const res = await d.post(`/api/queues/${name}/jobs/${job.id}/cancel`, { reason: 'from the dashboard' });
    expect(res.status).toBe(200);
    expect((await failed).message).toBe('Job cancelled: from the dashboard');
    expect((await queue.getJob(job.id!))?.failedReason).toBe('Job cancelled: from the dashboard');
    expect((await d.post(`/api/queues/${name}/jobs/${job.id}/cancel`)).status).toBe(409);
    const ro = await serve({ connection, queues: [name], readOnly: true });
    const waiting = await queue.add('later', {}, { delay: 3_600_000 });
    expect((await ro.post(`/api/queues/${name}/jobs/${waiting.id}/cancel`)).status).toBe(403);
    expect(await queue.getJobState(waiting.id!)).toBe('delayed');
  });

  it('shows a flow tree from the root for any job of the flow', async () => {
    const { connection, name } = setup();
    const flow = track(new FlowProducer({ connection }));
    const tree = await flow.add({
      name: 'root',
      queueName: name,
      children: [{ name: 'mid', queueName: name, children: [{ name: 'leaf', queueName: name }] }],
    });
    const leafId = tree.children![0].children![0].job.id!;
    const d = await serve({ connection, queues: [name] });
    const detail = (await d.get(`/api/queues/${name}/jobs/${leafId}`)).json();
    expect(detail.flow).toMatchObject({
      name: 'root',
      state: 'waiting-children',
      children: [{ name: 'mid', children: [{ name: 'leaf', id: leafId, state: 'waiting' }] }],
    });
  });

  it.runIf(hasListQueues(store))('lists every queue of the store without being told their names', async () => {
    const { queue, connection, name } = setup();
    await queue.add('a', {});
    const d = await serve({ connection });
    const names = (await d.get('/api/queues')).json().queues.map((q: { name: string }) => q.name);
    expect(names).toContain(name);
    expect(names).not.toContain('{docket-dashboard}');
  });

  it('refuses actions when read-only and asks for basic auth when configured', async () => {
    const { queue, connection, name } = setup();
    const ro = await serve({ connection, queues: [name], readOnly: true });
    expect((await ro.get('/api/queues')).json().readOnly).toBe(true);
    expect((await ro.get('/')).text).toContain('data-readonly="true"');
    expect((await ro.post(`/api/queues/${name}/pause`)).status).toBe(403);
    expect(await queue.isPaused()).toBe(false);

    const locked = await serve({ connection, queues: [name], basicAuth: { username: 'ops', password: 's3cret' } });
    const denied = await locked.get('/api/queues');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Basic');
    const wrong = `Basic ${Buffer.from('ops:nope').toString('base64')}`;
    expect((await locked.get('/api/queues', { authorization: wrong })).status).toBe(401);
    const right = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
    expect((await locked.get('/api/queues', { authorization: right })).status).toBe(200);
  });

  it('serves Prometheus metrics: counts, finished per minute and a duration histogram', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async (job: Job) => {
      if (job.data.fail) throw new Error('x');
      await new Promise((r) => setTimeout(r, 20));
    });
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
      { name: 'c', data: { fail: true } },
    ]);
    await until(
      async () => (await queue.getCompletedCount()) === 2 && (await queue.getFailedCount()) === 1,
      10_000,
      'done',
    );
    await w.close();
    await queue.add('d', {}, { delay: 60_000 });
    const d = await serve({ connection, queues: [name] });
    const res = await d.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const q = `queue="${name}"`;
    expect(res.text).toContain('# TYPE docket_queue_jobs gauge');
    expect(res.text).toContain(`docket_queue_jobs{${q},state="completed"} 2`);
    expect(res.text).toContain(`docket_queue_jobs{${q},state="delayed"} 1`);
    expect(res.text).toContain(`docket_queue_paused{${q}} 0`);
    expect(res.text).toContain(`docket_queue_finished_last_minute{${q},status="completed"} 2`);
    expect(res.text).toContain(`docket_queue_finished_last_minute{${q},status="failed"} 1`);
    expect(res.text).toContain('# TYPE docket_job_processing_seconds histogram');
    expect(res.text).toContain(`docket_job_processing_seconds_bucket{${q},status="completed",le="+Inf"} 2`);
    expect(res.text).toContain(`docket_job_processing_seconds_bucket{${q},status="completed",le="0.005"} 0`);
    expect(res.text).toContain(`docket_job_processing_seconds_count{${q},status="completed"} 2`);
    for (const line of res.text.trim().split('\n')) {
      // Label values are quoted and may hold any character (another test's queue may be named `x{t}`).
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+\{(\w+="(?:[^"\\]|\\.)*",?)*\} [0-9.e+-]+)$/);
    }
  });
});
