import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job, JobCancelledError, QueueEvents, UnrecoverableError, Worker } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { type Child, forkReady, killChild } from './support/processes.js';
import { stores, until } from './support/stores.js';

/**
 * queue.cancelJob (issue 21, docs/patterns/timeouts.md): the job fails for good with the reason,
 * without retry, wherever it is; the worker holding an active one, in any process, aborts its
 * signal with a JobCancelledError and frees the slot. worker.cancelJob keeps BullMQ's meaning.
 */
const cancelChild = new URL('./support/cancel-child.ts', import.meta.url).pathname;

describe.each(stores)('cancelling jobs on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('fails an active job held by a worker in another process without retry, and frees the slot', {
    timeout: 90_000,
  }, async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const reasons: unknown[] = [];
    let longStarted!: () => void;
    const longRunning = new Promise<void>((resolve) => (longStarted = resolve));
    const w = worker(
      async (job: Job, _token?: string, signal?: AbortSignal) => {
        if (job.name !== 'long') return 'quick';
        longStarted();
        signal!.addEventListener('abort', () => reasons.push(signal!.reason));
        await new Promise(() => {}); // ignores its signal
      },
      { concurrency: 1 },
    );
    const failed = new Promise<[Job, Error, number]>((resolve) =>
      w.on('failed', (job, err) => resolve([job!, err, Date.now()])),
    );
    const failedEvent = new Promise<{ jobId: string; failedReason: string; prev?: string }>((resolve) =>
      events.on('failed', resolve),
    );
    const job = await queue.add('long', {}, { attempts: 5 });
    await longRunning; // the processor's start: the store shows it active a moment before the worker reads the fetch
    let child: Child | undefined;
    try {
      child = await forkReady(cancelChild, [connection, name]);
      const answer = new Promise<{ cancelled: boolean; at: number }>((resolve) => child!.proc.once('message', resolve));
      child.proc.send({ cancel: job.id, reason: 'user asked' });
      const { cancelled, at } = await answer;
      expect(cancelled).toBe(true);
      const [failedJob, err, heardAt] = await failed;
      expect(failedJob.id).toBe(job.id);
      expect(err).toBeInstanceOf(JobCancelledError);
      expect(err.message).toBe('Job cancelled: user asked');
      expect(reasons).toEqual([err]);
      // "Within about a second": generous for a loaded machine (measured and printed, not a tight bound).
      console.info(
        `[cancel ${store.kind}] the worker stopped the job ${heardAt - at} ms after the other process's call`,
      );
      expect(heardAt - at).toBeLessThan(5000);
    } finally {
      if (child) await killChild(child);
    }
    expect(await queue.getJobState(job.id!)).toBe('failed');
    const stored = await queue.getJob(job.id!);
    expect(stored?.failedReason).toBe('Job cancelled: user asked');
    expect(stored?.attemptsMade).toBe(1);
    expect(await failedEvent).toMatchObject({
      jobId: job.id,
      failedReason: 'Job cancelled: user asked',
      prev: 'active',
    });
    // The one slot is free although the processor never settled.
    const next = await queue.add('next', {});
    await until(async () => (await queue.getJobState(next.id!)) === 'completed', 15_000, 'the next job');
  });

  it('reaches a worker in the same process, and the cancelled attempt cannot complete', async () => {
    const { queue, worker } = setup();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let late: string | undefined;
    let heldStarted!: () => void;
    const heldRunning = new Promise<void>((resolve) => (heldStarted = resolve));
    const w = worker(async (job: Job) => {
      heldStarted();
      await held;
      await job.updateData({ late: true }).catch((err: Error) => {
        late = err.message;
      });
      return 'late';
    });
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const completed: string[] = [];
    w.on('completed', (job) => completed.push(job.id!));
    const job = await queue.add('held', { n: 1 });
    await heldRunning;
    expect(await queue.cancelJob(job.id!)).toBe(true);
    const err = await failed;
    expect(err.name).toBe('JobCancelledError');
    expect(err.message).toBe('Job cancelled');
    release();
    await until(() => late, 10_000, 'the abandoned attempt to call updateData');
    expect(late).toBe(`Missing lock for job ${job.id}. updateData`);
    const stored = await queue.getJob(job.id!);
    expect(stored?.data).toEqual({ n: 1 });
    expect(await queue.getJobState(job.id!)).toBe('failed');
    expect(completed).toEqual([]);
  });

  it('fails a waiting, delayed or prioritized job at once, and leaves finished or missing ones alone', async () => {
    const { queue, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: { jobId: string; prev?: string }[] = [];
    events.on('failed', (e) => seen.push(e));
    const waiting = await queue.add('w', {}, { attempts: 3 });
    const delayed = await queue.add('d', {}, { delay: 60_000 });
    const prioritized = await queue.add('p', {}, { priority: 5 });
    const removed = await queue.add('r', {}, { removeOnFail: true });
    expect(await queue.cancelJob(waiting.id!, 'not needed')).toBe(true);
    expect(await queue.cancelJob(delayed.id!)).toBe(true);
    expect(await queue.cancelJob(prioritized.id!)).toBe(true);
    expect(await queue.cancelJob(removed.id!)).toBe(true);
    for (const job of [waiting, delayed, prioritized]) expect(await queue.getJobState(job.id!)).toBe('failed');
    const stored = await queue.getJob(waiting.id!);
    expect(stored?.failedReason).toBe('Job cancelled: not needed');
    expect(stored?.attemptsMade).toBe(0);
    expect(stored?.finishedOn).toBeGreaterThan(0);
    expect(await queue.getJob(removed.id!)).toBeUndefined(); // its removeOnFail applied
    expect(await queue.cancelJob(waiting.id!)).toBe(false); // finished already
    expect(await queue.cancelJob('no-such-job')).toBe(false);
    expect(await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'failed')).toEqual({
      waiting: 0,
      delayed: 0,
      prioritized: 0,
      failed: 3,
    });
    await until(() => seen.length === 4, 10_000, 'four failed events');
    expect(seen.map((e) => e.prev)).toEqual(['waiting', 'delayed', 'prioritized', 'waiting']);
  });

  it('fails a parent waiting for its children, and the children can still finish', async () => {
    const { queue, connection, name } = setup();
    const flows = track(new FlowProducer({ connection }));
    const tree = await flows.add({ name: 'parent', queueName: name, children: [{ name: 'child', queueName: name }] });
    const parentId = tree.job.id!;
    expect(await queue.getJobState(parentId)).toBe('waiting-children');
    expect(await queue.cancelJob(parentId, 'stop')).toBe(true);
    expect(await queue.getJobState(parentId)).toBe('failed');
    const w = track(new Worker(name, async () => 'child done', { connection, drainDelay: 1 }));
    const done = new Promise<Job>((resolve) => w.on('completed', resolve));
    expect((await done).name).toBe('child');
    expect(await queue.getJobState(parentId)).toBe('failed');
  });

  it('stops an attempt at its next lock renewal when the job was failed without a notice', async () => {
    const { queue, worker } = setup();
    // moveToFailed with BullMQ's token '0' fails the job outside the worker and sends no notice: the
    // path a lost notice takes (a Redis subscriber reconnecting).
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const w = worker(
      async (job: Job) => {
        if (job.name !== 'long') return 'ok';
        started();
        return new Promise(() => {});
      },
      {
        lockDuration: 1000,
        concurrency: 1,
      },
    );
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const job = await queue.add('long', {});
    await running;
    await (await queue.getJob(job.id!))!.moveToFailed(new UnrecoverableError('failed elsewhere'), '0');
    const err = await failed;
    expect(err.name).toBe('JobCancelledError');
    expect(err.message).toBe('failed elsewhere');
    const next = await queue.add('next', {});
    await until(
      async () => (await queue.getJobState(next.id!)) === 'completed',
      15_000,
      'the freed slot to run the next job',
    );
  });

  it("keeps worker.cancelJob's BullMQ meaning: only the signal, and the processor decides", async () => {
    const { queue, worker } = setup();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let calls = 0;
    const w = worker(async (_job: Job, _token?: string, signal?: AbortSignal) => {
      calls += 1;
      // The retry completes, so closing the worker cannot abort (and fail) it.
      if (calls > 1) return 'second';
      started();
      await new Promise((_, reject) =>
        signal!.addEventListener('abort', () => reject(new Error(`stopped: ${signal!.reason}`))),
      );
    });
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const job = await queue.add('x', {}, { attempts: 2 });
    // The processor's own start, not the store's state: a job is active in the store a moment
    // before the worker has read the fetch's reply.
    await running;
    expect(w.cancelJob(job.id!, 'why')).toBe(true);
    expect(w.cancelJob('other')).toBe(false);
    expect((await failed).message).toBe('stopped: why');
    // An ordinary failure: retried, as BullMQ.
    await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'the retry to complete');
    const done = (await queue.getJob(job.id!))!;
    expect(done.returnvalue).toBe('second');
    expect(done.attemptsMade).toBe(2);
    expect(done.failedReason).toBe('stopped: why');
  });
});
