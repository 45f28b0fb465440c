import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { useQueues } from '../support/fixture.js';
import { stores } from '../support/stores.js';
import { fixture, sandboxModes, useSandboxes } from './support.js';

// An error thrown in a sandbox keeps its own properties even when they refer back to themselves:
// each reference to an enclosing object (or to the error) arrives as "[Circular]", as in BullMQ,
// instead of the whole property being dropped.

const job = { id: '1', name: 'x', data: {}, opts: {} } as unknown as Job;
const expected = {
  custom: { shared: { n: 1 }, ref: '[Circular]', again: { n: 1 } },
  reference: '[Circular]',
  code: 'E_LOOP',
};

const openSandbox = useSandboxes();

describe.each(sandboxModes)('an error with circular properties from a sandbox ($mode)', ({ useWorkerThreads }) => {
  it('arrives with each cycle written "[Circular]"', async () => {
    const sandbox = openSandbox('throws-circular.js', useWorkerThreads);
    const err = await sandbox.processor(job).catch((e) => e);
    expect(err.message).toBe('circular');
    expect(err).toMatchObject(expected);
  });
});

describe.each(stores)('a sandboxed job failing with a circular error on $kind', (store) => {
  const { setup } = useQueues(store);

  it("reaches the worker's failed event with its properties", async () => {
    const { queue, worker } = setup();
    const w = worker(fixture('throws-circular.js'));
    const failed = new Promise<Error>((resolve) => w.once('failed', (_job, err) => resolve(err)));
    await queue.add('x', {});
    const err = await failed;
    expect(err.message).toBe('circular');
    expect(err).toMatchObject(expected);
  });
});
