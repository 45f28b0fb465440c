import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';
import { fixture, sandboxModes, useSandboxes } from './support.js';

// A sandboxed processor's `signal.reason` is what an in-process processor would see: the value
// given to `abort` (a string from `worker.cancelJob(id, reason)` stays a string), not an Error
// built from it — `new Error(signal.reason)` would otherwise read "Error: <reason>".

const openSandbox = useSandboxes();

describe.each(sandboxModes)('the abort reason in a sandbox ($mode)', ({ useWorkerThreads }) => {
  /** What the child's signal carried when the parent aborted with `reason` (none: `abort()`). */
  async function reasonSeen(...reason: unknown[]) {
    const sandbox = openSandbox('abort-reason.js', useWorkerThreads);
    const controller = new AbortController();
    let result: Promise<unknown> | undefined;
    // Aborted once the processor runs in the child (a child's start-up may outlast the cancel grace).
    const running = new Promise<void>((resolve) => {
      const job = { id: '1', name: 'x', data: {}, opts: {}, updateProgress: async () => resolve() };
      result = sandbox.processor(job as unknown as Job, 'tok', controller.signal);
    });
    await running;
    controller.abort(...reason);
    return result;
  }

  it('keeps a string reason a string', async () => {
    expect(await reasonSeen('no longer needed')).toEqual({
      type: 'string',
      isError: false,
      value: 'no longer needed',
    });
  });

  it('rebuilds an Error reason as an Error', async () => {
    expect(await reasonSeen(new Error('stop'))).toMatchObject({ isError: true, name: 'Error', message: 'stop' });
  });

  it("gives abort() without a reason the signal's own AbortError", async () => {
    expect(await reasonSeen()).toMatchObject({ isError: true, name: 'AbortError' });
  });
});

describe.each(stores)('worker.cancelJob with a reason, sandboxed, on $kind', (store) => {
  const { setup } = useQueues(store);

  for (const useWorkerThreads of [false, true]) {
    it(`fails the job with the reason as given (${useWorkerThreads ? 'worker thread' : 'child process'})`, async () => {
      const { queue, worker } = setup();
      const w = worker(fixture('throws-abort-reason.js'), { useWorkerThreads });
      // Cancelled once the processor runs in the child (before that, the parent rejects by itself).
      const running = new Promise<void>((resolve) => w.once('progress', () => resolve()));
      const added = await queue.add('x', {});
      await running;
      expect(w.cancelJob(added.id!, 'Custom cancellation reason')).toBe(true);
      await until(async () => (await queue.getJobState(added.id!)) === 'failed', 15_000, 'the failure');
      expect((await queue.getJob(added.id!))?.failedReason).toBe('Custom cancellation reason');
    });
  }
});
