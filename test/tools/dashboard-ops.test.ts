import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { isolated, stores, until } from '../support/stores.js';
import { useDashboards } from './dashboard-harness.js';

type Summary = {
  name: string;
  counts: Record<string, number>;
  stalled: { count: number; jobIds: string[]; since: number };
  throughput: { since: number; completed: number[]; failed: number[]; stalled: number[]; source: string };
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe.each(stores)('dashboard for daily operations on $kind', (store) => {
  const { setup, track } = useQueues(isolated(store, 6));
  const { serve } = useDashboards();
  const summaryOf = async (d: Awaited<ReturnType<typeof serve>>, name: string): Promise<Summary> =>
    (await d.get('/api/queues')).json().queues.find((q: Summary) => q.name === name);

  it('charts the last hour: jobs finished per minute, also those removed on finishing, final failures only', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async (job: Job) => {
      if (job.data.fail) throw new Error('x');
    });
    await queue.addBulk([
      ...Array.from({ length: 3 }, (_, n) => ({ name: 'ok', data: { n } })),
      ...Array.from({ length: 2 }, (_, n) => ({ name: 'gone', data: { n }, opts: { removeOnComplete: true } })),
      // Two attempts: the first, retried, is not a failure of the chart.
      { name: 'bad', data: { fail: true }, opts: { attempts: 2 } },
    ]);
    await until(async () => (await queue.getCompletedCount()) === 3 && (await queue.getFailedCount()) === 1, 10_000);
    await w.close();
    const d = await serve({ connection, queues: [name] });
    const { throughput } = await summaryOf(d, name);
    expect(throughput.completed).toHaveLength(60);
    expect(sum(throughput.completed)).toBe(5);
    expect(sum(throughput.failed)).toBe(1);
    expect(sum(throughput.stalled)).toBe(0);
    expect(throughput.source).toBe('recorded');
    // The last bar is the current minute.
    expect(throughput.since + 59 * 60_000).toBeLessThanOrEqual(Date.now());
    expect(throughput.since + 60 * 60_000).toBeGreaterThan(Date.now() - 60_000);

    // Workers recording the opt-in metrics: the chart takes the larger count per minute.
    const second = setup();
    const counted = second.worker(async () => 'ok', { metrics: { maxDataPoints: 60 } });
    await second.queue.addBulk(
      Array.from({ length: 4 }, () => ({ name: 'gone', data: {}, opts: { removeOnComplete: true } })),
    );
    await until(async () => (await second.queue.getMetrics('completed')).meta.count === 4, 10_000);
    await counted.close();
    const d2 = await serve({ connection: second.connection, queues: [second.name] });
    const metered = (await summaryOf(d2, second.name)).throughput;
    expect(sum(metered.completed)).toBe(4);
    // The store's own counts saw every job: the metrics add nothing.
    expect(metered.source).toBe('recorded');
  });

  it('shows the stalled jobs of the last hour', async () => {
    const { queue, worker, connection, name } = setup();
    const started = Date.now();
    const d = await serve({ connection, queues: [name] });
    expect((await summaryOf(d, name)).stalled.count).toBe(0);
    const job = await queue.add('x', {});
    const w = worker(null, { lockDuration: 200, stalledInterval: 100 });
    expect((await w.getNextJob('token-1', { block: false }))?.id).toBe(job.id);
    await w.startStalledCheckTimer();
    await until(async () => (await queue.getJobState(job.id!)) === 'waiting', 10_000, 'the recovery');
    const stalled = await until(async () => {
      const s = (await summaryOf(d, name)).stalled;
      return s.count > 0 ? s : undefined;
    }, 15_000); // the overview reads a queue's minutes again after 5 s
    expect(stalled.count).toBe(1);
    expect(stalled.jobIds[0]).toBe(job.id);
    // The count is the stores' per-minute record: the whole hour, whenever the dashboard started.
    expect(stalled.since).toBeGreaterThan(started - 3_600_000 - 60_000);
    expect(stalled.since).toBeLessThanOrEqual(Date.now() - 59 * 60_000);
    await w.close();
    // A dashboard started after the stall still counts it (the ids come from the event log, where it has them).
    const later = await serve({ connection, queues: [name] });
    expect((await summaryOf(later, name)).stalled.count).toBe(1);
    expect(sum((await summaryOf(later, name)).throughput.stalled)).toBe(1);
  });

  it('searches by id, name and data text within a time range, and says how many jobs it looked at', async () => {
    const { queue, connection, name } = setup();
    await queue.addBulk(
      Array.from({ length: 30 }, (_, n) => ({ name: n % 2 ? 'invoice' : 'receipt', data: { customer: `cust-${n}` } })),
    );
    const d = await serve({ connection, queues: [name] });
    const list = (query: string) => d.get(`/api/queues/${name}/jobs?state=waiting&${query}`);
    const byData = (await list('search=CUST-17')).json();
    expect(byData.jobs.map((j: { data?: unknown; name: string }) => j.name)).toEqual(['invoice']);
    expect(byData).toMatchObject({ total: 1, stateTotal: 30, search: { scanned: 30, window: 10_000, complete: true } });
    expect((await list('search=invoice&pageSize=50')).json().total).toBe(15);
    const exact = (await list('search=7')).json();
    expect(exact.exact).toEqual({ id: '7', state: 'waiting' });
    expect((await list(`search=receipt&from=${Date.now() + 3_600_000}`)).json().total).toBe(0);
    expect((await list(`search=receipt&from=${Date.now() - 3_600_000}&to=${Date.now() + 1000}`)).json().total).toBe(15);
    const bad = await list('from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.json().error).toContain('from must be a date');
    // Plain paging reads one page, no search window.
    const plain = (await list('page=2&pageSize=10')).json();
    expect(plain).toMatchObject({ total: 30, page: 2 });
    expect(plain.jobs).toHaveLength(10);
    expect(plain.search).toBeUndefined();
  });

  it('retries, removes and promotes selected jobs in bulk, reporting those it refused', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async () => {
      throw new Error('down');
    });
    const failed = await queue.addBulk(Array.from({ length: 3 }, () => ({ name: 'f', data: {} })));
    await until(async () => (await queue.getFailedCount()) === 3, 10_000);
    await w.close();
    const d = await serve({ connection, queues: [name] });
    const [a, b, c] = failed.map((j) => j.id!);
    const retried = await d.post(`/api/queues/${name}/bulk`, { action: 'retry', ids: [a, b] });
    expect(retried.json).toEqual({ ok: true, done: 2, failed: [] });
    expect(await queue.getJobState(a)).toBe('waiting');
    expect(await queue.getJobState(b)).toBe('waiting');
    const mixed = await d.post(`/api/queues/${name}/bulk`, { action: 'retry', ids: [a, c] });
    expect(mixed.json).toMatchObject({
      ok: false,
      done: 1,
      failed: [{ id: a, error: expect.stringContaining('waiting') }],
    });
    const removed = await d.post(`/api/queues/${name}/bulk`, { action: 'remove', ids: [a, b] });
    expect(removed.json.done).toBe(2);
    expect(await queue.getJob(a)).toBeUndefined();
    const later = await queue.addBulk([
      { name: 'd', data: {}, opts: { delay: 3_600_000 } },
      { name: 'd', data: {}, opts: { delay: 3_600_000 } },
    ]);
    const promoted = await d.post(`/api/queues/${name}/bulk`, { action: 'promote', ids: later.map((j) => j.id) });
    expect(promoted.json.done).toBe(2);
    expect(await queue.getJobState(later[0].id!)).toBe('waiting');
    expect((await d.post(`/api/queues/${name}/bulk`, { action: 'explode', ids: [a] })).status).toBe(400);
    expect((await d.post(`/api/queues/${name}/bulk`, { action: 'retry', ids: [] })).status).toBe(400);
  });

  it('adds a job from the form, naming bad JSON and bad options without adding anything', async () => {
    const { queue, connection, name } = setup();
    const d = await serve({ connection, queues: [name] });
    const added = await d.post(`/api/queues/${name}/add`, {
      name: 'mail',
      data: '{"to": "ops"}',
      opts: '{"delay": 60000}',
    });
    expect(added.status).toBe(200);
    const job = await queue.getJob(added.json.id);
    expect(job).toMatchObject({ name: 'mail', data: { to: 'ops' }, delay: 60_000 });
    expect(await job!.getState()).toBe('delayed');
    const badData = await d.post(`/api/queues/${name}/add`, { name: 'mail', data: '{to: ops}' });
    expect(badData.status).toBe(400);
    expect(badData.json.error).toMatch(/^data is not valid JSON: /);
    const badOpts = await d.post(`/api/queues/${name}/add`, { name: 'mail', data: '{}', opts: '[1]' });
    expect(badOpts.status).toBe(400);
    expect(badOpts.json.error).toContain('options must be a JSON object');
    const invalid = await d.post(`/api/queues/${name}/add`, { name: 'mail', data: '{}', opts: '{"attempts": -1}' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toContain('attempts');
    expect((await d.post(`/api/queues/${name}/add`, { data: '{}' })).json.error).toBe('name is required');
    expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(1);
  });

  it("lists the queue's live workers with their running jobs, its schedulers' next runs and its groups", async () => {
    const { queue, worker, connection, name } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const w = worker(() => gate, { name: 'mailer' });
    const running = await queue.add('slow', {});
    await queue.upsertJobScheduler('every-hour', { every: 3_600_000 }, { name: 'tick' });
    await queue.add('grouped', { n: 1 }, { group: { id: 'tenant-a' } });
    const d = await serve({ connection, queues: [name] });
    // The heartbeat (every 10 s) carries the running jobs.
    const info = await until(
      async () => {
        const i = (await d.get(`/api/queues/${name}`)).json();
        return i.workers[0]?.running === 1 ? i : undefined;
      },
      25_000,
      'a heartbeat with the running job',
    );
    expect(info.workers).toEqual([
      expect.objectContaining({
        name: 'mailer',
        host: hostname(),
        pid: process.pid,
        running: 1,
        runningIds: [running.id],
      }),
    ]);
    expect(info.workers[0].heartbeat).toBeGreaterThan(Date.now() - 30_000);
    expect(info.schedulers).toEqual([expect.objectContaining({ key: 'every-hour', name: 'tick', every: 3_600_000 })]);
    expect(info.schedulers[0].next).toBeGreaterThan(Date.now() - 60_000);
    expect(info.groups).toEqual([expect.objectContaining({ id: 'tenant-a', waiting: 1, paused: false })]);
    expect(info.groups[0].jobIds).toHaveLength(1);
    // The grouped job's own page names its group.
    const grouped = (await d.get(`/api/queues/${name}/jobs/${info.groups[0].jobIds[0]}`)).json();
    expect(grouped).toEqual(expect.objectContaining({ name: 'grouped', group: 'tenant-a' }));
    release();
    await w.close();
  }, 40_000);

  it('gives a job page its own URL with when a delayed job runs, its parent, and only the actions its state allows', async () => {
    const { queue, connection, name } = setup();
    const d = await serve({ connection, queues: [name] });
    const delayed = await queue.add('later', { x: 1 }, { delay: 180_000 });
    const page = await d.get(`/queues/${name}/jobs/${delayed.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<base href="/admin/">');
    expect(page.text).toContain(`&quot;id&quot;:&quot;${delayed.id}&quot;`);
    expect((await d.get(`/queues/${name}`)).status).toBe(200);
    const detail = (await d.get(`/api/queues/${name}/jobs/${delayed.id}`)).json();
    expect(detail).toMatchObject({ state: 'delayed', runsAt: delayed.timestamp + 180_000 });
    expect(detail.actions).toEqual(['promote', 'cancel', 'remove']);
    expect((await d.post(`/api/queues/${name}/jobs/${delayed.id}/retry`)).status).toBe(409);

    const flow = track(new FlowProducer({ connection }));
    const tree = await flow.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
    const child = (await d.get(`/api/queues/${name}/jobs/${tree.children![0].job.id}`)).json();
    expect(child.parent).toEqual({ queueName: name, id: tree.job.id });
    const parent = (await d.get(`/api/queues/${name}/jobs/${tree.job.id}`)).json();
    expect(parent.children).toEqual([expect.objectContaining({ queueName: name, id: tree.children![0].job.id })]);

    const ro = await serve({ connection, queues: [name], readOnly: true });
    expect((await ro.get(`/api/queues/${name}/jobs/${delayed.id}`)).json().actions).toEqual([]);
    expect((await ro.post(`/api/queues/${name}/bulk`, { action: 'promote', ids: [delayed.id] })).status).toBe(403);
    expect((await ro.post(`/api/queues/${name}/add`, { name: 'x', data: '{}' })).status).toBe(403);
    expect(await queue.getJobState(delayed.id!)).toBe('delayed');
    expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(2); // the delayed job and the flow's child
  });
});

describe('dashboard header', () => {
  const { serve } = useDashboards();

  it('names the store with the password of its URL masked (the page itself opens no connection)', async () => {
    for (const url of ['redis://ops:hunter2@127.0.0.1:1/0', 'postgres://ops:hunter2@127.0.0.1:1/db']) {
      const d = await serve({ connection: url });
      const page = await d.get('/');
      expect(page.text).toContain(
        `data-testid="store">${url.startsWith('redis') ? 'Redis redis' : 'PostgreSQL postgres'}://***@127.0.0.1:1/`,
      );
      expect(page.text).not.toContain('hunter2');
      const queuePage = await d.get('/queues/emails');
      expect(queuePage.text).not.toContain('hunter2');
    }
  });
});
