import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { sandboxModes, useSandboxes } from './support.js';

// BullMQ's sandbox stops waiting for the children getters when the parent does not answer in time
// and fails the call (so the job) with `TimeoutError: <method> timed out in (<ms>ms)`: 5 s, or
// 500 ms when NODE_ENV is `test` (vitest sets it, and the children inherit it).

const timeoutMs = process.env.NODE_ENV === 'test' ? 500 : 5_000;
const never = () => new Promise(() => undefined);

const openSandbox = useSandboxes();

describe.each(sandboxModes)('children getters in a sandbox ($mode)', ({ useWorkerThreads }) => {
  for (const method of ['getChildrenValues', 'getIgnoredChildrenFailures', 'getDependenciesCount', 'getDependencies']) {
    it(`fails ${method} when the parent does not answer in time`, async () => {
      const sandbox = openSandbox('calls-getter.js', useWorkerThreads);
      // A job whose getter never settles in the parent.
      const job = { id: '1', name: 'x', data: { method }, opts: {}, [method]: never } as unknown as Job;
      const err = await sandbox.processor(job).catch((e) => e);
      expect(err.message).toBe(`TimeoutError: ${method} timed out in (${timeoutMs}ms)`);
    });
  }
});
