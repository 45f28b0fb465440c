import { type ChildProcess, fork } from 'node:child_process';

/** A child process started with tsx; `stderr` collects what it printed (for failure messages). */
export interface Child {
  proc: ChildProcess;
  pid: number;
  stderr: string[];
  exited: Promise<number | null>;
}

/**
 * Forks `file` (a .ts file run through tsx) with `args` and resolves once it sends 'ready' over IPC.
 * Rejects when it exits first or is not ready within `timeoutMs` (a busy machine starts tsx slowly).
 */
export function forkReady(file: string, args: string[], timeoutMs = 60_000): Promise<Child> {
  const proc = fork(file, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child ${file} was not ready after ${timeoutMs} ms:\n${stderr.join('')}`));
    }, timeoutMs);
    proc.once('message', (msg) => {
      clearTimeout(timer);
      if (msg === 'ready') resolve({ proc, pid: proc.pid!, stderr, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`child ${file} exited with ${code} before it was ready:\n${stderr.join('')}`));
    });
  });
}

/** Asks a child to close cleanly ('close' over IPC); SIGKILLs it after `timeoutMs`. */
export async function stopChild(child: Child, timeoutMs = 10_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  try {
    child.proc.send('close');
  } catch {
    child.proc.kill('SIGKILL');
  }
  await child.exited;
  clearTimeout(timer);
}

/** SIGKILLs a child and waits until it is gone. */
export async function killChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGKILL');
  await child.exited;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
