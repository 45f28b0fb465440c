import { describe, expect, it } from 'vitest';
import { type Job, QueueEvents, TimeoutError } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

/**
 * Job timeouts (issue 21, docs/patterns/timeouts.md): a job's `timeout`, the worker's `timeout` and
 * BullMQ Pro's `ttl` abort the processor's signal with a TimeoutError, fail the attempt (retried
 * per attempts) and free the slot whatever the processor does; the abandoned attempt's later calls
 * are refused. Cancels (queue.cancelJob) are in cancel.test.ts.
 */

/** A promise and its resolve, to hold a processor until the test lets it go. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Rejects with the signal's reason once it aborts (a processor that honours its signal). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe.each(stores)('job timeouts on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('aborts a processor that honours its signal with a TimeoutError and fails the job', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const reasons: unknown[] = [];
    const failedEvent = new Promise<{ jobId: string; failedReason: string }>((resolve) => events.on('failed', resolve));
    const w = worker(async (_job: Job, _token?: string, signal?: AbortSignal) => {
      signal!.addEventListener('abort', () => reasons.push(signal!.reason));
      return aborted(signal!);
    });
    const failed = new Promise<[Job, Error]>((resolve) => w.on('failed', (job, err) => resolve([job!, err])));
    const job = await queue.add('slow', {}, { timeout: 200 });
    const [failedJob, err] = await failed;
    expect(failedJob.id).toBe(job.id);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.name).toBe('TimeoutError');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBe(err);
    expect(await queue.getJobState(job.id!)).toBe('failed');
    const stored = await queue.getJob(job.id!);
    expect(stored?.failedReason).toBe(`Job ${job.id} timed out after 200 ms`);
    expect((await failedEvent).failedReason).toMatch(/timed out/);
  });

  it('frees the slot of a processor that ignores its signal, and refuses its later calls', async () => {
    const { queue, worker } = setup();
    const held = gate();
    const late: string[] = [];
    let lateDone = false;
    const w = worker(
      async (job: Job) => {
        if (job.name !== 'stuck') return 'quick';
        await held.wait; // ignores the signal: runs on after its timeout
        for (const call of [
          () => job.updateData({ changed: true }),
          () => job.updateProgress(99),
          () => job.moveToDelayed(Date.now() + 60_000),
          () => job.step('late', () => 1),
        ]) {
          await call().then(
            () => late.push('accepted'),
            (err: Error) => late.push(err.message),
          );
        }
        lateDone = true;
        return 'late result';
      },
      { concurrency: 1, timeout: 300 },
    );
    const completed: string[] = [];
    w.on('completed', (job) => completed.push(job.id!));
    const stuck = await queue.add('stuck', { original: true });
    const next = await queue.add('next', {}, { timeout: 0 });
    // The one slot was freed by the timeout: the next job ran while the first still "runs".
    await until(() => completed.includes(next.id!), 15_000, 'the next job to complete');
    expect(await queue.getJobState(stuck.id!)).toBe('failed');
    held.open();
    await until(() => lateDone, 10_000, 'the abandoned attempt to finish');
    expect(late).toEqual([
      `Missing lock for job ${stuck.id}. updateData`,
      `Missing lock for job ${stuck.id}. updateProgress`,
      `Missing lock for job ${stuck.id}. moveToDelayed`,
      `Missing lock for job ${stuck.id}. recordStep`,
    ]);
    const after = await queue.getJob(stuck.id!);
    expect(after?.data).toEqual({ original: true });
    expect(after?.returnvalue).toBeFalsy();
    expect(await queue.getJobState(stuck.id!)).toBe('failed');
    expect(completed).not.toContain(stuck.id);
  });

  it('retries a timed-out attempt per attempts and backoff', async () => {
    const { queue, worker } = setup();
    const w = worker(async (job: Job, _token?: string, signal?: AbortSignal) => {
      if (job.attemptsMade < 2) return aborted(signal!);
      return `done on attempt ${job.attemptsMade + 1}`;
    });
    const failures: string[] = [];
    w.on('failed', (_job, err) => failures.push(err.name));
    const done = new Promise<[Job, unknown]>((resolve) => w.on('completed', (job, result) => resolve([job, result])));
    const job = await queue.add('flaky', {}, { timeout: 150, attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const [completed, result] = await done;
    expect(completed.id).toBe(job.id);
    expect(result).toBe('done on attempt 3');
    expect(failures).toEqual(['TimeoutError', 'TimeoutError']);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(3);
  });

  it("takes BullMQ Pro's ttl per job name, and a job's own timeout over it", async () => {
    const { queue, worker } = setup();
    const w = worker(
      async (job: Job, _token?: string, signal?: AbortSignal) => {
        await Promise.race([new Promise((r) => setTimeout(r, 500)), aborted(signal!)]);
        return job.name;
      },
      { ttl: { short: 100 }, timeout: 20_000, concurrency: 3 },
    );
    const ended = new Map<string, string>();
    w.on('completed', (job) => ended.set(job.name, 'completed'));
    w.on('failed', (job, err) => ended.set(job!.name, err.name));
    await queue.add('short', {});
    await queue.add('other', {});
    await queue.add('short-but-own', {}, { timeout: 0 });
    await until(() => ended.size === 3, 15_000, 'three jobs to end');
    expect(Object.fromEntries(ended)).toEqual({
      short: 'TimeoutError',
      other: 'completed',
      'short-but-own': 'completed',
    });
  });

  it('rejects bad timeouts before anything is stored', async () => {
    const { queue, worker } = setup();
    await expect(queue.add('x', {}, { timeout: -1 })).rejects.toThrow(/opts.timeout/);
    await expect(queue.add('x', {}, { timeout: 2 ** 31 })).rejects.toThrow(/at most/);
    expect(() => worker(null, { timeout: Number.NaN })).toThrow(/timeout/);
    expect(() => worker(null, { ttl: { a: -5 } })).toThrow(/ttl.a/);
    expect(await queue.count()).toBe(0);
  });

  for (const useWorkerThreads of [false, true]) {
    it(`terminates a sandboxed processor that runs past its timeout (${useWorkerThreads ? 'worker thread' : 'child process'})`, async () => {
      const { queue, worker } = setup();
      const fixture = new URL('./sandbox/fixtures/hangs.js', import.meta.url);
      // 3 s: the attempt's time includes starting the child, which two busy cores stretched past 1 s.
      const w = worker(fixture, { timeout: 3000, useWorkerThreads, concurrency: 1 });
      const pids: number[] = [];
      w.on('progress', (_job, progress) => pids.push((progress as { pid: number }).pid));
      const failures: string[] = [];
      w.on('failed', (_job, err) => failures.push(err.name));
      await queue.add('hang', {});
      await queue.add('hang', {});
      // Two timeouts in a row on one slot: the first child's end freed it.
      await until(() => failures.length === 2, 40_000, 'both jobs to time out');
      expect(failures).toEqual(['TimeoutError', 'TimeoutError']);
      if (!useWorkerThreads) {
        // Each child that got as far as reporting its pid is killed (a starved one may not get that far).
        expect(pids.length).toBeGreaterThanOrEqual(1);
        expect(new Set(pids).size).toBe(pids.length);
        for (const pid of pids) {
          await until(() => !alive(pid), 10_000, `child ${pid} to be gone`);
        }
      }
    }, 60_000);
  }

  it('an abandoned sandboxed attempt does not complete the job', async () => {
    const { queue, worker } = setup();
    const fixture = new URL('./sandbox/fixtures/slow.js', import.meta.url);
    const w = worker(fixture, { timeout: 300 });
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const job = await queue.add('slow', { ms: 60_000, stubborn: true });
    expect((await failed).name).toBe('TimeoutError');
    expect(await queue.getJobState(job.id!)).toBe('failed');
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
