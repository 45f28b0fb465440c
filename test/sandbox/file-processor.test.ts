import { describe, expect, it } from 'vitest';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

describe.each(stores)('a Worker given a processor file on $kind', (store) => {
  const { setup } = useQueues(store);

  it('runs a file path in a child process, with progress, logs and data updates', async () => {
    const { queue, worker } = setup();
    const w = worker(fixture('progress.js').pathname);
    const progress: unknown[] = [];
    w.on('progress', (_job, p) => progress.push(p));
    await queue.add('x', { n: 1 });
    await until(async () => (await queue.getJobState('1')) === 'completed', 20_000, 'completion');
    expect(progress).toEqual([50, { done: true }]);
    const job = await queue.getJob('1');
    expect(job?.data).toEqual({ n: 1, touched: true });
    expect((await queue.getJobLogs('1')).logs).toEqual(['halfway']);
  });

  it('runs a file URL in a worker thread', async () => {
    const { queue, worker } = setup();
    worker(fixture('ok.js'), { useWorkerThreads: true });
    await queue.add('x', { n: 2 });
    await until(async () => (await queue.getJobState('1')) === 'completed', 20_000, 'completion');
  });

  it('fails the job when the processor exits its process, and runs the next job in a fresh one', async () => {
    const { queue, worker } = setup();
    worker(fixture('exits.js').pathname);
    await queue.add('x', { exit: 3 });
    await queue.add('y', {});
    await until(async () => (await queue.getJobState('1')) === 'failed', 20_000, 'the failure');
    expect((await queue.getJob('1'))?.failedReason).toMatch(/Unexpected exit code: 3/);
    await until(async () => (await queue.getJobState('2')) === 'completed', 20_000, 'the next job');
  });
});
