import { afterEach } from 'vitest';
import { createSandbox, type Sandbox } from '../../src/worker/sandbox/index.js';

/** The two ways a sandbox runs its processor file; the sandbox tests run in both. */
export const sandboxModes = [
  { mode: 'child process', useWorkerThreads: false },
  { mode: 'worker thread', useWorkerThreads: true },
];

/** A processor file of test/sandbox/fixtures. */
export const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/** Opens sandboxes of one job at a time (`file`: a fixture's name or a URL); each is closed after its test. */
export function useSandboxes(): (file: string | URL, useWorkerThreads: boolean) => Sandbox {
  const open: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return (file, useWorkerThreads) => {
    const sandbox = createSandbox(typeof file === 'string' ? fixture(file) : file, {
      concurrency: 1,
      useWorkerThreads,
    });
    open.push(sandbox);
    return sandbox;
  };
}
