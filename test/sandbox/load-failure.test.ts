import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/job.js';
import { sandboxModes, useSandboxes } from './support.js';

// A child whose processor file failed to load is not reused: the module system keeps the failure,
// so the same child would fail every later job; the next job gets a fresh child, as in BullMQ.

const dir = mkdtempSync(join(tmpdir(), 'docket-load-failure-'));
const job = { id: '1', name: 'x', data: {}, opts: {} } as unknown as Job;

/** A processor file whose first load throws (it removes its flag file), later loads succeed. */
function failsToLoadOnce(name: string): string {
  const flag = join(dir, `${name}.flag`);
  const file = join(dir, `${name}.mjs`);
  writeFileSync(flag, '1');
  writeFileSync(
    file,
    `import { existsSync, unlinkSync } from 'node:fs';
const flag = ${JSON.stringify(flag)};
if (existsSync(flag)) {
  unlinkSync(flag);
  throw new Error('failed to load once');
}
export default async () => 'loaded';
`,
  );
  return file;
}

const openSandbox = useSandboxes();

describe.each(sandboxModes)('a processor file that fails to load once ($mode)', ({ mode, useWorkerThreads }) => {
  it('fails that job, then runs the next one in a fresh child', async () => {
    const sandbox = openSandbox(pathToFileURL(failsToLoadOnce(mode.replace(' ', '-'))), useWorkerThreads);
    await expect(sandbox.processor(job)).rejects.toThrow('failed to load once');
    expect(await sandbox.processor(job)).toBe('loaded');
  });
});
