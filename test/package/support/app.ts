import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);

/** The user project of test/package/support/package-setup.ts. */
export function packageApp() {
  return inject('packageApp');
}

/** Writes `source` as `file` in the user project and runs it with node there; resolves with its stdout. */
export async function runInApp(
  file: string,
  source: string,
  args: string[] = [],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const { dir } = packageApp();
  writeFileSync(join(dir, file), source);
  return runFile(file, args, opts);
}

/** Runs an existing file of the user project with node; stderr is part of the error when it fails. */
export async function runFile(
  file: string,
  args: string[] = [],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const { dir } = packageApp();
  try {
    const { stdout } = await run(process.execPath, [file, ...args], {
      cwd: dir,
      timeout: opts.timeoutMs ?? 30_000,
      env: { ...process.env, ...opts.env },
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`node ${file} failed: ${e.message}\nstdout:\n${e.stdout ?? ''}\nstderr:\n${e.stderr ?? ''}`);
  }
}

/** The last line of `stdout` that parses as JSON. */
export function lastJson<T = any>(stdout: string): T {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line) as T;
    } catch {}
  }
  throw new Error(`no JSON line in:\n${stdout}`);
}
