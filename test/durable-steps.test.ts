import { describe, expect, it } from 'vitest';
import { DelayedError, type Job, Queue, ValidationError, Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

/** Durable steps (issue 20): job.step, job.sleep, job.spawnChildren on every store. */
describe.each(stores)('durable steps on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('replays recorded steps after a failure and runs only the step that failed again', async () => {
    const { queue, worker } = setup();
    await queue.add('order', { orderId: 7 }, { attempts: 3 });
    const ran: string[] = [];
    let failOnce = true;
    const w = worker(async (job: Job) => {
      const stock = await job.step('reserve', async () => {
        ran.push('reserve');
        return { reserved: job.data.orderId, at: 1.5 };
      });
      const charge = await job.step('charge', () => {
        ran.push('charge');
        if (failOnce) {
          failOnce = false;
          throw new Error('bank down');
        }
        return 'ch_1';
      });
      const nothing = await job.step('notify', () => {
        ran.push('notify');
      });
      return { stock, charge, nothing };
    });
    const done = new Promise<Job>((resolve) => w.once('completed', resolve));
    const job = await done;
    expect(ran).toEqual(['reserve', 'charge', 'charge', 'notify']);
    expect(job.returnvalue).toEqual({ stock: { reserved: 7, at: 1.5 }, charge: 'ch_1', nothing: null });
    const stored = await queue.getJob(job.id!);
    expect(stored?.steps).toEqual({ reserve: { reserved: 7, at: 1.5 }, charge: 'ch_1', notify: null });
    expect(stored?.attemptsMade).toBe(2);
    expect(stored?.toJSON().steps).toEqual(stored?.steps);
    expect(JSON.parse(stored?.asJSON().steps as string)).toEqual(stored?.steps);
  });

  it('resumes after a durable sleep without running earlier steps again or spending an attempt', async () => {
    const { queue, worker } = setup();
    await queue.add('wait', {}, { attempts: 1 });
    const ran: string[] = [];
    const starts: number[] = [];
    let sleptAt = 0;
    const w = worker(async (job: Job) => {
      starts.push(Date.now());
      const a = await job.step('a', () => {
        ran.push('a');
        return 1;
      });
      sleptAt ||= Date.now();
      await job.sleep('nap', 300);
      const b = await job.step('b', () => {
        ran.push('b');
        return 2;
      });
      return a + b;
    });
    let failed = 0;
    w.on('failed', () => failed++);
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toBe(3);
    expect(ran).toEqual(['a', 'b']);
    expect(starts).toHaveLength(2);
    expect(starts[1] - sleptAt).toBeGreaterThanOrEqual(290);
    expect(failed).toBe(0);
    const stored = await queue.getJob(job.id!);
    expect(stored?.attemptsMade).toBe(1);
    expect(stored?.attemptsStarted).toBe(2);
    expect(Object.keys(stored?.steps ?? {})).toEqual(['a', 'nap', 'b']);
  });

  it('adds children once, waits for them, and returns their values in order', async () => {
    const { queue, worker, connection } = setup();
    const kids = track(new Queue(`${queue.name}-kids`, { connection }));
    const kidWorker = track(
      new Worker(kids.name, async (job) => job.data.n * 10, { connection, drainDelay: 1, autorun: false }),
    );
    await queue.add('parent', {});
    const ran: string[] = [];
    const w = worker(async (job: Job) => {
      await job.step('before', () => ran.push('before'));
      const values = await job.spawnChildren<number>('pages', [
        { name: 'page', data: { n: 1 }, queueName: kids.name },
        { name: 'page', data: { n: 2 }, queueName: kids.name },
        { name: 'page', data: { n: 3 }, queueName: kids.name },
      ]);
      ran.push('after');
      return values;
    });
    const completed = new Promise<Job>((resolve) => w.once('completed', resolve));
    await until(async () => (await queue.getJobState('1')) === 'waiting-children', 10_000, 'the parent to wait');
    expect(await kids.getWaitingCount()).toBe(3);
    void kidWorker.run();
    const job = await completed;
    expect(job.returnvalue).toEqual([10, 20, 30]);
    expect(ran).toEqual(['before', 'after']);
    expect(await kids.count()).toBe(0);
    expect((await kids.getJobCounts('completed')).completed).toBe(3);
  });

  it('goes on at once with no children to spawn', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async (job: Job) => job.spawnChildren('none', []));
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toEqual([]);
    expect(job.attemptsStarted).toBe(1);
  });

  it('does not add the children twice when the parent is retried after them', async () => {
    const { queue, worker, connection } = setup();
    const kids = track(new Queue(`${queue.name}-kids`, { connection }));
    const kidWorker = track(new Worker(kids.name, async (job) => job.data.n, { connection, drainDelay: 1 }));
    await queue.add('parent', {}, { attempts: 2 });
    let failOnce = true;
    const w = worker(async (job: Job) => {
      const values = await job.spawnChildren('kids', [{ name: 'k', data: { n: 5 }, queueName: kids.name }]);
      if (failOnce) {
        failOnce = false;
        throw new Error('after the children');
      }
      return values;
    });
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toEqual([5]);
    expect((await kids.getJobCounts('completed')).completed).toBe(1);
    await kidWorker.close();
  });

  it('replays recorded steps after a resume from a hand-made moveToDelayed', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const ran: string[] = [];
    const w = worker(async (job: Job, token) => {
      const a = await job.step('a', () => {
        ran.push('a');
        return 'A';
      });
      if (!job.data.parked) {
        await job.updateData({ parked: true });
        await job.moveToDelayed(Date.now() + 50, token);
        throw new DelayedError();
      }
      return a;
    });
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toBe('A');
    expect(ran).toEqual(['a']);
  });

  it('adds recorded children whose add was lost (a crash between the record and the add) once', async () => {
    const { queue, worker, connection } = setup();
    const kids = track(new Queue(`${queue.name}-kids`, { connection }));
    await kids.waitUntilReady();
    const runs: string[] = [];
    const kidWorker = track(
      new Worker(kids.name, async (job) => runs.push(job.id!) && job.data.n, { connection, drainDelay: 1 }),
    );
    await queue.add('parent', {});
    // The state a crash leaves: the children's ids recorded, the children never added.
    const manual = worker(null);
    const parked = (await manual.getNextJob('t'))!;
    const plan = JSON.stringify({ children: [`${kids.qualifiedName}:fixed`] });
    expect(await queue.store.recordStep(queue.qualifiedName, parked.id!, 't', 'kids', plan, Date.now())).toBe(0);
    await parked.moveToDelayed(Date.now(), 't');
    await manual.close();
    const w = worker(async (job: Job) =>
      job.spawnChildren('kids', [{ name: 'k', data: { n: 9 }, queueName: kids.name }]),
    );
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toEqual([9]);
    expect(runs).toEqual(['fixed']);
    expect(await kids.count()).toBe(0);
    await kidWorker.close();
  });

  it('refuses to record a step once the lock is lost, with the lock error of other moves', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = (await w.getNextJob('mine'))!;
    expect(await job.step('one', () => 1)).toBe(1);
    // Another worker's token: the store refuses, and the result is not recorded.
    job.token = 'other';
    await expect(job.step('two', () => 2)).rejects.toThrow(/Lock mismatch for job 1/);
    job.token = 'mine';
    await job.moveToDelayed(Date.now() + 60_000, 'mine');
    await expect(job.step('three', () => 3)).rejects.toThrow(/Missing lock for job 1/);
    await expect(job.sleep('four', 10)).rejects.toThrow(/Missing lock for job 1/);
    expect((await queue.getJob('1'))?.steps).toEqual({ one: 1 });
  });

  it('rejects duplicate ids, bad ids and results that are not JSON', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = (await w.getNextJob('t'))!;
    await job.step('a', () => 'first');
    await expect(job.step('a', () => 'again')).rejects.toThrow(/Step "a" of job 1 was used twice in one run/);
    await expect(job.step('', () => 1)).rejects.toThrow(ValidationError);
    await expect(job.step(42 as unknown as string, () => 1)).rejects.toThrow(/non-empty string/);
    await expect(job.step('fn', () => () => 1)).rejects.toThrow(/result of step "fn" of job 1 is not JSON/);
    await expect(job.step('big', () => 10n)).rejects.toThrow(/result of step "big" of job 1 is not JSON/);
    await expect(job.sleep('s', -1)).rejects.toThrow(/finite number of ms/);
    // A step that threw may run again under its id in the same run.
    await expect(
      job.step('flaky', () => {
        throw new Error('once');
      }),
    ).rejects.toThrow('once');
    expect(await job.step('flaky', () => 'ok')).toBe('ok');
    expect((await queue.getJob('1'))?.steps).toEqual({ a: 'first', flaky: 'ok' });
  });

  it('keeps steps on a finished job; job.retry() and retryJobs clear them; removing drops them', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {}, { jobId: 'c1' });
    let runs = 0;
    const w = worker(async (job: Job) => job.step('count', () => ++runs));
    await new Promise((resolve) => w.once('completed', resolve));
    const finished = (await queue.getJob('c1'))!;
    expect(finished.steps).toEqual({ count: 1 });
    await finished.retry('completed');
    expect(finished.steps).toEqual({});
    await until(async () => (await queue.getJob('c1'))?.returnvalue === 2, 10_000, 'the rerun');
    await queue.retryJobs({ state: 'completed' });
    await until(async () => (await queue.getJob('c1'))?.returnvalue === 3, 10_000, 'the bulk rerun');
    await w.close();
    await (await queue.getJob('c1'))!.remove();
    await queue.add('x', {}, { jobId: 'c1' });
    expect((await queue.getJob('c1'))?.steps).toEqual({});
  });

  it('runs parallel steps and records each', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(async (job: Job) => Promise.all([1, 2, 3, 4, 5].map((n) => job.step(`n${n}`, async () => n * n))));
    const job = await new Promise<Job>((resolve) => w.once('completed', resolve));
    expect(job.returnvalue).toEqual([1, 4, 9, 16, 25]);
    expect((await queue.getJob('1'))?.steps).toEqual({ n1: 1, n2: 4, n3: 9, n4: 16, n5: 25 });
  });
});
