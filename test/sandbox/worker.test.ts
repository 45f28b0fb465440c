import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { createSandbox, type Sandbox } from '../../src/worker/sandbox/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

describe.each(stores)('sandboxed processors through a Worker on $kind', (store) => {
  const { setup } = useQueues(store);
  const sandboxes: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((s) => s.close()));
  });

  /** A queue and a worker whose processor runs `file` in a sandbox. */
  function sandboxed(file: string, opts: { concurrency?: number; useWorkerThreads?: boolean } = {}) {
    const { queue, worker } = setup();
    const concurrency = opts.concurrency ?? 1;
    const sandbox = createSandbox(fixture(file), { concurrency, useWorkerThreads: opts.useWorkerThreads });
    sandboxes.push(sandbox);
    /** How each processor call ended, in order. */
    const outcomes: { ok: boolean; value: any }[] = [];
    const w = worker(
      async (job, token, signal) => {
        try {
          const value = await sandbox.processor(job, token, signal);
          outcomes.push({ ok: true, value });
          return value;
        } catch (err) {
          outcomes.push({ ok: false, value: err });
          throw err;
        }
      },
      { concurrency },
    );
    return { queue, worker: w, outcomes };
  }

  for (const useWorkerThreads of [false, true]) {
    it(`returns the processor's result (${useWorkerThreads ? 'worker thread' : 'child process'})`, async () => {
      const { queue, worker } = sandboxed('ok.js', { useWorkerThreads, concurrency: 2 });
      const results = new Map<string, any>();
      worker.on('completed', (job, result) => results.set(job.id!, result));
      await queue.add('double', { n: 4 }, { jobId: 'a' });
      await queue.add('double', { n: 5 }, { jobId: 'b' });
      await until(() => results.size === 2, 15_000, 'two completions');
      expect(results.get('a')).toMatchObject({ doubled: 8, id: 'a', name: 'double', queueName: queue.name });
      const job = await queue.getJob('b');
      expect(job?.returnvalue).toMatchObject({ doubled: 10, id: 'b' });
      expect(await queue.getJobState('b')).toBe('completed');
    });
  }

  for (const useWorkerThreads of [false, true]) {
    it(`runs durable steps, sleep and spawnChildren (${useWorkerThreads ? 'worker thread' : 'child process'})`, async () => {
      const { queue } = sandboxed('steps.js', { useWorkerThreads, concurrency: 2 });
      const ledger = join(mkdtempSync(join(tmpdir(), 'docket-sandbox-steps-')), 'ledger');
      await queue.add('parent', { ledger }, { jobId: 'p', attempts: 2 });
      await until(async () => (await queue.getJobState('p')) === 'completed', 15_000, 'the parent to complete');
      const job = (await queue.getJob('p'))!;
      expect(job.returnvalue).toBe(8);
      expect(Object.keys(job.steps)).toEqual(['a', 'nap', 'kids', 'last']);
      expect(job.steps.a).toEqual({ n: 1 });
      // Step a ran once across four starts (sleep, children, a failed attempt); the last step twice.
      expect(readFileSync(ledger, 'utf8')).toBe('a\nlast\nlast\n');
      expect(job.attemptsStarted).toBe(4);
    });
  }

  it('fails a job that throws, retrying while attempts remain', async () => {
    const { queue, worker } = sandboxed('throws.js');
    const failures: string[] = [];
    worker.on('failed', (_job, err) => failures.push(err.message));
    await queue.add('t', { n: 1 }, { jobId: 'x', attempts: 2 });
    await until(async () => (await queue.getJobState('x')) === 'failed', 15_000, 'the job to fail');
    const job = (await queue.getJob('x'))!;
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toBe('boom 1');
    expect(failures).toEqual(['boom 1', 'boom 1']);
  });

  it('fails a job whose processor exits its process, and runs the next one in a fresh child', async () => {
    const { queue, worker } = sandboxed('exits.js');
    const completed: number[] = [];
    worker.on('completed', (_job, pid) => completed.push(pid as number));
    await queue.add('first', {}, { jobId: 'j1' });
    await until(() => completed.length === 1, 15_000, 'the first job');
    await queue.add('crash', { exit: 1 }, { jobId: 'j2' });
    await until(async () => (await queue.getJobState('j2')) === 'failed', 15_000, 'the crash to fail its job');
    expect((await queue.getJob('j2'))!.failedReason).toBe('Unexpected exit code: 1 signal: null');
    await queue.add('after', {}, { jobId: 'j3' });
    await until(() => completed.length === 2, 15_000, 'the job after the crash');
    expect(completed[1]).not.toBe(completed[0]);
  });

  it('forwards progress, logs and updateData to the job', async () => {
    const { queue, worker } = sandboxed('progress.js');
    const progress: unknown[] = [];
    worker.on('progress', (_job: Job, p: unknown) => progress.push(p));
    await queue.add('p', { n: 1 }, { jobId: 'p' });
    await until(async () => (await queue.getJobState('p')) === 'completed', 15_000, 'completion');
    expect(progress).toEqual([50, { done: true }]);
    const job = (await queue.getJob('p'))!;
    expect(job.progress).toEqual({ done: true });
    expect(job.data).toEqual({ n: 1, touched: true });
    expect(job.returnvalue).toEqual({ progress: { done: true }, rows: 1, data: { n: 1, touched: true } });
    expect(await queue.getJobLogs('p')).toEqual({ logs: ['halfway'], count: 1 });
  });

  it('leaves a job delayed after moveToDelayed and a DelayedError across the boundary', async () => {
    const { queue, worker, outcomes } = sandboxed('delayed.js');
    const events: string[] = [];
    worker.on('failed', () => events.push('failed'));
    worker.on('completed', () => events.push('completed'));
    await queue.add('d', {}, { jobId: 'd' });
    await until(() => outcomes.length === 1, 15_000, 'the processor to settle');
    expect(outcomes[0]!.value).toMatchObject({ name: 'DelayedError', message: 'bullmq:movedToDelayed' });
    expect(await queue.getJobState('d')).toBe('delayed');
    const job = (await queue.getJob('d'))!;
    expect(job.attemptsMade).toBe(0);
    expect(job.data).toEqual({ delayed: true });
    expect(events).toEqual([]);
  });

  it('fails at once on an UnrecoverableError thrown in the child', async () => {
    const { queue } = sandboxed('unrecoverable.js');
    await queue.add('u', {}, { jobId: 'u', attempts: 3 });
    await until(async () => (await queue.getJobState('u')) === 'failed', 15_000, 'the job to fail');
    const job = (await queue.getJob('u'))!;
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe('give up');
  });
});
