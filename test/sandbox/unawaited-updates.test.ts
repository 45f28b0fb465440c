import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { until } from '../support/stores.js';
import { sandboxModes, useSandboxes } from './support.js';

// In a sandbox, job.updateProgress and job.updateData change the child's copy of the job at once,
// as in BullMQ: a processor that does not await them still reads back what it set.

const openSandbox = useSandboxes();

describe.each(sandboxModes)('updates not awaited in a sandbox ($mode)', ({ useWorkerThreads }) => {
  it('reads back its own progress and data at once, and the parent job still gets both', async () => {
    const sandbox = openSandbox('unawaited-updates.js', useWorkerThreads);
    const parent = {
      id: '1',
      name: 'x',
      data: { original: true },
      opts: {},
      progress: 0,
      async updateProgress(p: unknown) {
        parent.progress = p as number;
      },
      async updateData(d: Record<string, unknown>) {
        parent.data = d as { original: boolean };
      },
    };
    const result = await sandbox.processor(parent as unknown as Job);
    expect(result).toEqual({ progress: 100, data: { replaced: true } });
    await until(() => parent.progress === 100, 5_000, 'the forwarded progress');
    await until(() => (parent.data as Record<string, unknown>).replaced === true, 5_000, 'the forwarded data');
  });
});
