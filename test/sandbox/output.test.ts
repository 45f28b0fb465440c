import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { until } from '../support/stores.js';
import { sandboxModes, useSandboxes } from './support.js';

// What a sandboxed processor prints goes through the parent's process.stdout and process.stderr
// streams, as in BullMQ, so an app that redirects or captures them there sees the child's output too.

const openSandbox = useSandboxes();

/** Collects what is written to `stream` through its `write` until `restore()`. */
function capture(stream: NodeJS.WriteStream) {
  const original = stream.write;
  let text = '';
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    text += String(chunk);
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  return {
    text: () => text,
    restore: () => {
      stream.write = original;
    },
  };
}

describe.each(sandboxModes)('output of a sandboxed processor ($mode)', ({ useWorkerThreads }) => {
  it("reaches the parent's stdout and stderr streams", async () => {
    const sandbox = openSandbox('writes-output.js', useWorkerThreads);
    const tag = randomUUID();
    const job = { id: '1', name: 'x', data: { tag }, opts: {} } as unknown as Job;
    const out = capture(process.stdout);
    const err = capture(process.stderr);
    try {
      expect(await sandbox.processor(job)).toBe('written');
      // The output travels apart from the job's result: it may arrive a little later.
      await until(() => out.text().includes(`out ${tag}\n`), 5_000, 'the stdout line');
      await until(() => err.text().includes(`err ${tag}\n`), 5_000, 'the stderr line');
    } finally {
      out.restore();
      err.restore();
    }
  });
});
