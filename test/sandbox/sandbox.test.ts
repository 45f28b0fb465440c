import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { createSandbox, type Sandbox } from '../../src/worker/sandbox/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/** A stand-in for `Job` that records the calls forwarded from the child. */
function fakeJob(data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const calls: [string, unknown[]][] = [];
  const job = {
    id: '1',
    name: 'fake',
    data,
    opts: {},
    progress: 0,
    attemptsMade: 0,
    attemptsStarted: 1,
    timestamp: Date.now(),
    queueName: 'fake-queue',
    queueQualifiedName: 'bull:fake-queue',
    async updateProgress(p: unknown) {
      calls.push(['updateProgress', [p]]);
      job.progress = p as number;
    },
    async log(row: string) {
      calls.push(['log', [row]]);
      return 7;
    },
    async updateData(d: Record<string, unknown>) {
      calls.push(['updateData', [d]]);
      job.data = d;
    },
    async moveToDelayed(ts: number, token?: string) {
      calls.push(['moveToDelayed', [ts, token]]);
    },
    async getChildrenValues() {
      return { 'bull:q:c1': 1 };
    },
    async getDependenciesCount() {
      return { processed: 1, unprocessed: 0, failed: 0, ignored: 0 };
    },
    async getDependencies() {
      return { processed: { 'bull:q:c1': 1 }, unprocessed: [], failed: [], ignored: {} };
    },
    async getFailedChildrenValues() {
      return {};
    },
    async getIgnoredChildrenFailures() {
      return { 'bull:q:c2': 'nope' };
    },
    ...extra,
  };
  return { job: job as unknown as Job, calls, raw: job };
}

const open: Sandbox[] = [];
const sandbox = (file: string, opts: Parameters<typeof createSandbox>[1] = { concurrency: 1 }) => {
  const s = createSandbox(fixture(file), opts);
  open.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each([
  { mode: 'child process', useWorkerThreads: false },
  { mode: 'worker thread', useWorkerThreads: true },
])('createSandbox ($mode)', ({ useWorkerThreads }) => {
  const opts = { concurrency: 2, useWorkerThreads };

  it('returns the result of an ESM default export, a CJS module and a TS file', async () => {
    const { job } = fakeJob({ n: 21, a: 1, b: 2 });
    const res = await sandbox('ok.js', opts).processor(job, 'tok');
    expect(res).toMatchObject({ doubled: 42, id: '1', name: 'fake', queueName: 'fake-queue' });
    expect(await sandbox('ok.cjs', opts).processor(job)).toEqual({ sum: 3 });
    expect(await sandbox('typed.ts', opts).processor(job)).toBe(22);
  });

  it('reuses children between jobs', async () => {
    const s = sandbox('ok.js', opts);
    const a = await s.processor(fakeJob({ n: 1 }).job);
    const b = await s.processor(fakeJob({ n: 2 }).job);
    expect(b.pid).toBe(a.pid);
  });

  it('rebuilds thrown errors with name, message, stack and props', async () => {
    const err = await sandbox('throws.js', opts)
      .processor(fakeJob({ n: 3 }).job)
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('boom 3');
    expect(err.name).toBe('Error');
    expect(err.code).toBe('E_BOOM');
    expect(err.stack).toContain('throws.js');
  });

  it('keeps special error names across the boundary', async () => {
    const err = await sandbox('unrecoverable.js', opts)
      .processor(fakeJob().job)
      .catch((e) => e);
    expect(err.name).toBe('UnrecoverableError');
    expect(err.message).toBe('give up');
  });

  it('turns non-Error throws into readable errors', async () => {
    const err = await sandbox('throws-string.js', opts)
      .processor(fakeJob().job)
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('Processor threw a non-Error value: {"not":"an error"}');
  });

  it('fails a job whose result is not JSON-serialisable', async () => {
    const err = await sandbox('bigint.js', opts)
      .processor(fakeJob().job)
      .catch((e) => e);
    expect(err.message).toMatch(/Sandboxed processor result is not JSON-serialisable/);
  });

  it('fails when the file exports no function', async () => {
    const err = await sandbox('no-export.js', opts)
      .processor(fakeJob().job)
      .catch((e) => e);
    expect(err.message).toBe('No function is exported in processor file');
  });

  it('forwards progress, log and updateData to the parent job', async () => {
    const { job, calls, raw } = fakeJob({ n: 1 });
    const res = await sandbox('progress.js', opts).processor(job);
    expect(calls).toEqual([
      ['updateProgress', [50]],
      ['log', ['halfway']],
      ['updateProgress', [{ done: true }]],
      ['updateData', [{ n: 1, touched: true }]],
    ]);
    expect(res).toEqual({ progress: { done: true }, rows: 7, data: { n: 1, touched: true } });
    expect(raw.data).toEqual({ n: 1, touched: true });
  });

  it('forwards the children getters', async () => {
    const res = await sandbox('children.js', opts).processor(fakeJob().job);
    expect(res).toEqual({
      values: { 'bull:q:c1': 1 },
      count: { processed: 1, unprocessed: 0, failed: 0, ignored: 0 },
      deps: { processed: { 'bull:q:c1': 1 }, unprocessed: [], failed: [], ignored: {} },
      failed: {},
      ignored: { 'bull:q:c2': 'nope' },
    });
  });

  it('passes errors of forwarded calls back into the child', async () => {
    const { job } = fakeJob(
      {},
      {
        async moveToDelayed() {
          throw new Error('Missing lock for job 1. moveToDelayed');
        },
      },
    );
    const err = await sandbox('delayed.js', opts)
      .processor(job, 'tok')
      .catch((e) => e);
    expect(err.message).toBe('Missing lock for job 1. moveToDelayed');
  });

  it('fails the job when the child exits, then runs the next job in a fresh child', async () => {
    const s = sandbox('exits.js', { concurrency: 1, useWorkerThreads });
    const first = await s.processor(fakeJob({}).job);
    const err = await s.processor(fakeJob({ exit: 3 }).job).catch((e) => e);
    expect(err.message).toBe('Unexpected exit code: 3 signal: null');
    const next = await s.processor(fakeJob({}).job);
    if (!useWorkerThreads) expect(next).not.toBe(first);
    else expect(next).toBe(first); // threads share the pid
  });

  it('fails the job with an uncaught exception from the child', async () => {
    const s = sandbox('uncaught.js', opts);
    const err = await s.processor(fakeJob().job).catch((e) => e);
    expect(err.message).toBe('uncaught in child');
    const err2 = await s.processor(fakeJob().job).catch((e) => e);
    expect(err2.message).toBe('uncaught in child');
  });

  it('cancels: a cooperative processor settles with its own error', async () => {
    const s = sandbox('slow.js', { ...opts, concurrency: 1 });
    expect(await s.processor(fakeJob({ ms: 1 }).job)).toBe('finished'); // a warm child
    const controller = new AbortController();
    const p = s.processor(fakeJob({}).job, 'tok', controller.signal);
    controller.abort(new Error('stop'));
    const err = await p.catch((e) => e);
    expect(err.message).toBe('cancelled: stop');
  });

  it('cancels: a stubborn processor is killed and the job rejects with the abort reason', async () => {
    const s = createSandbox(fixture('slow.js'), { ...opts, cancelGraceMs: 50 });
    open.push(s);
    const controller = new AbortController();
    const p = s.processor(fakeJob({ stubborn: true }).job, 'tok', controller.signal);
    setTimeout(() => controller.abort(new Error('stop now')), 20);
    const err = await p.catch((e) => e);
    expect(err.message).toBe('stop now');
    expect(await s.processor(fakeJob({ ms: 1 }).job)).toBe('finished');
  });

  it('runs jobs in parallel up to concurrency and close() rejects running jobs', async () => {
    const s = createSandbox(fixture('slow.js'), opts);
    const a = s.processor(fakeJob({ stubborn: true }).job).catch((e) => e);
    const b = s.processor(fakeJob({ stubborn: true }).job).catch((e) => e);
    await s.close();
    expect((await a).message).toBe('Sandbox closed');
    expect((await b).message).toBe('Sandbox closed');
    await expect(s.processor(fakeJob().job)).rejects.toThrow('Sandbox is closed');
  });
});

describe('createSandbox from a path', () => {
  it('accepts a plain file path', async () => {
    const s = createSandbox(new URL('./fixtures/ok.cjs', import.meta.url).pathname, { concurrency: 1 });
    open.push(s);
    expect(await s.processor(fakeJob({ a: 2, b: 3 }).job)).toEqual({ sum: 5 });
  });
});
