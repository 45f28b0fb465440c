import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildResult, ChildTask } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Runs one child; resolves its result or throws with its stderr tail. */
export function runChild(task: ChildTask, timeoutMs: number, nodeArgs: string[] = []): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', join(here, 'child.ts'), JSON.stringify(task)],
      {
        cwd: join(here, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) return resolve(JSON.parse(line.slice('RESULT '.length)) as ChildResult);
      const lines = err.trim().split('\n');
      const first = lines.find((l) => /error/i.test(l) && !l.trimStart().startsWith('at '));
      const tail = [...(first ? [first] : []), ...lines.filter((l) => !l.trimStart().startsWith('at ')).slice(-3)]
        .join(' ⏎ ')
        .slice(0, 600);
      reject(new Error(`exit ${signal ?? code}: ${tail || 'no result'}`));
    });
  });
}
