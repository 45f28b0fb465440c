import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { createSandbox, type Sandbox } from '../../src/worker/sandbox/index.js';

// BullMQ's sandbox stops waiting for the children getters when the parent does not answer in time
// and fails the call (so the job) with `TimeoutError: <method> timed out in (<ms>ms)`: 5 s, or
// 500 ms when NODE_ENV is `test` (vitest sets it, and the children inherit it).

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const timeoutMs = process.env.NODE_ENV === 'test' ? 500 : 5_000;
const never = () => new Promise(() => undefined);

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each([
  { mode: 'child process', useWorkerThreads: false },
  { mode: 'worker thread', useWorkerThreads: true },
])('children getters in a sandbox ($mode)', ({ useWorkerThreads }) => {
  for (const method of ['getChildrenValues', 'getIgnoredChildrenFailures', 'getDependenciesCount', 'getDependencies']) {
    it(`fails ${method} when the parent does not answer in time`, async () => {
      const sandbox = createSandbox(fixture('calls-getter.js'), { concurrency: 1, useWorkerThreads });
      open.push(sandbox);
      // A job whose getter never settles in the parent.
      const job = { id: '1', name: 'x', data: { method }, opts: {}, [method]: never } as unknown as Job;
      const err = await sandbox.processor(job).catch((e) => e);
      expect(err.message).toBe(`TimeoutError: ${method} timed out in (${timeoutMs}ms)`);
    });
  }
});
