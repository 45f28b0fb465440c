import { describe, expect, it } from 'vitest';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

// A Worker's workerForkOptions reach the fork of its child processes and its workerThreadsOptions
// the constructor of its worker threads, as in BullMQ; here both give the sandbox an environment.

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

describe.each(stores)('options for the sandbox children of a Worker on $kind', (store) => {
  const { setup } = useQueues(store);

  const cases = [
    {
      option: 'workerForkOptions',
      opts: { workerForkOptions: { env: { ...process.env, DOCKET_SANDBOX_MARK: 'fork' } } },
    },
    {
      option: 'workerThreadsOptions',
      opts: {
        useWorkerThreads: true,
        workerThreadsOptions: { env: { ...process.env, DOCKET_SANDBOX_MARK: 'thread' } },
      },
    },
  ];
  for (const { option, opts } of cases) {
    it(`passes ${option} to the children`, async () => {
      const { queue, worker } = setup();
      worker(fixture('reads-env.js'), opts);
      const job = await queue.add('x', {});
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 20_000, 'completion');
      expect((await queue.getJob(job.id!))?.returnvalue).toBe(option === 'workerForkOptions' ? 'fork' : 'thread');
    });
  }
});
