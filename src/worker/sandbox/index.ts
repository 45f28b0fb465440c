/**
 * Sandboxed processors: a processor given as a file runs in a pool of child processes (or worker
 * threads), one job at a time per child. The job's methods are forwarded to the real `Job` here.
 */
import { type ChildProcess, type ForkOptions, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker as ThreadWorker, type WorkerOptions as ThreadWorkerOptions } from 'node:worker_threads';
import type { Job } from '../../job.js';
import { isStopError } from '../../stop-errors.js';
import {
  type ChildMessage,
  deserializeError,
  JOB_METHODS,
  type JobFields,
  type ParentMessage,
  serializeAbortReason,
  serializeError,
  toJsonValue,
} from './protocol.js';

export type SandboxProcessor = (job: Job, token?: string, signal?: AbortSignal) => Promise<any>;

export interface SandboxOptions {
  useWorkerThreads?: boolean;
  /** The worker's `workerForkOptions`: spread over Docket's fork options, as BullMQ does. */
  forkOptions?: ForkOptions;
  /** The worker's `workerThreadsOptions`: spread over Docket's thread options, as BullMQ does. */
  threadOptions?: ThreadWorkerOptions;
  /** Children kept for reuse; the worker never runs more jobs at once than its concurrency. */
  concurrency: number;
  /** How long a cancelled job may take to settle before its child is killed (ms). */
  cancelGraceMs?: number;
}

export interface Sandbox {
  processor: SandboxProcessor;
  close(): Promise<void>;
}

/** The job's fields copied for the child. */
const JOB_FIELDS = [
  'id',
  'name',
  'data',
  'opts',
  'progress',
  'delay',
  'priority',
  'timestamp',
  'attemptsMade',
  'attemptsStarted',
  'stalledCounter',
  'processedOn',
  'finishedOn',
  'processedBy',
  'returnvalue',
  'failedReason',
  'stacktrace',
  'token',
  'parent',
  'parentKey',
  'repeatJobKey',
  'deduplicationId',
  'steps',
  'queueName',
  'queueQualifiedName',
  'prefix',
] as const;

interface Child {
  send(msg: ParentMessage): void;
  kill(): void;
  /** Settles once the child is gone. */
  exited: Promise<void>;
  dead: boolean;
  /** Killed or about to be: never reused. */
  retired?: boolean;
  onMessage?: (msg: ChildMessage) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** `child.js` next to this module, or `child.ts` when running from source (tsx, vitest). */
function childEntry(): URL {
  const js = new URL('./child.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return js;
  return new URL('./child.ts', import.meta.url);
}

/** Extensions BullMQ takes a processor path to have already; any other path gets `.js` added. */
const PROCESSOR_EXTENSIONS = ['.js', '.ts', '.flow', '.cjs', '.mjs'];

/**
 * The processor file as a `file:` URL, or BullMQ's error when it does not exist: a worker given a
 * missing file throws at construction (before it opens its store), not on its first job. A path
 * without one of BullMQ's extensions means that path plus `.js`, as in BullMQ.
 */
export function processorUrl(file: string | URL): string {
  if (file instanceof URL || /^file:/i.test(file)) {
    const url = new URL(file);
    if (!existsSync(url)) throw new Error(`URL ${url.href} does not exist in the local file system`);
    return url.href;
  }
  const path = PROCESSOR_EXTENSIONS.includes(extname(file)) ? file : `${file}.js`;
  if (!existsSync(path)) throw new Error(`File ${path} does not exist`);
  return pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
}

const TS_FILE = /\.(c|m)?tsx?$/i;

/** tsx's loader as a file URL, when it can be found. */
function tsxLoader(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve('tsx');
    return pathToFileURL(path).href;
  } catch {
    return undefined;
  }
}

function hasTsLoader(execArgv: string[]): boolean {
  return execArgv.some((a) => /tsx|ts-node|strip-types|transform-types/.test(a));
}

/** The parent's flags, less the debugger ones (a second inspector on the same port fails). */
function inheritedExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
}

/** `execArgv` less `--import tsx` (and `--loader tsx`), registered explicitly in threads instead. */
function withoutTsxImport(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (/^--(import|loader|experimental-loader)$/.test(a) && /tsx/.test(execArgv[i + 1] ?? '')) i++;
    else if (!/^--(import|loader|experimental-loader)=.*tsx/.test(a)) out.push(a);
  }
  return out;
}

function forkChild(entry: URL, needsTs: boolean, options: ForkOptions = {}): Child {
  const execArgv = [...(options.execArgv ?? inheritedExecArgv())];
  if (needsTs && !hasTsLoader(execArgv)) {
    const loader = tsxLoader();
    if (loader) execArgv.push('--import', loader);
  }
  // The child's output goes through this process's stdout and stderr streams, as in BullMQ (and as a
  // worker thread's does), so whatever the app put there (a logger, a test's capture) sees it.
  // The worker's workerForkOptions go over these, as in BullMQ (a TS loader is still added when needed).
  const cp: ChildProcess = fork(fileURLToPath(entry), [], {
    serialization: 'json',
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
    ...options,
    execArgv,
  });
  cp.stdout?.pipe(process.stdout, { end: false });
  cp.stderr?.pipe(process.stderr, { end: false });
  let exitedResolve!: () => void;
  const child: Child = {
    dead: false,
    exited: new Promise((r) => (exitedResolve = r)),
    send: (msg) => {
      if (!child.dead && cp.connected) cp.send(msg, (err: Error | null) => err && undefined);
    },
    kill: () => {
      if (cp.exitCode === null && cp.signalCode === null) cp.kill('SIGKILL');
    },
  };
  cp.on('message', (msg) => child.onMessage?.(msg as ChildMessage));
  cp.on('error', () => undefined);
  cp.on('exit', (code, signal) => {
    child.dead = true;
    child.onExit?.(code, signal);
    exitedResolve();
  });
  return child;
}

function threadChild(entry: URL, needsTs: boolean, options: ThreadWorkerOptions = {}): Child {
  let worker: ThreadWorker;
  const loader = needsTs ? tsxLoader() : undefined;
  if (loader) {
    // Loader hooks are per thread on Node 20: register tsx inside the thread, then load the entry.
    const api = new URL('./esm/api/index.mjs', loader).href;
    const code = `import(${JSON.stringify(api)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry.href)}))`;
    const execArgv = withoutTsxImport(options.execArgv ?? inheritedExecArgv());
    worker = new ThreadWorker(code, { ...options, eval: true, execArgv });
  } else {
    // The worker's workerThreadsOptions go over these, as in BullMQ.
    worker = new ThreadWorker(entry, { execArgv: inheritedExecArgv(), ...options });
  }
  let exitedResolve!: () => void;
  const child: Child = {
    dead: false,
    exited: new Promise((r) => (exitedResolve = r)),
    send: (msg) => {
      if (!child.dead) worker.postMessage(msg);
    },
    kill: () => {
      if (!child.dead) void worker.terminate();
    },
  };
  worker.on('message', (msg) => child.onMessage?.(msg as ChildMessage));
  // An uncaught error in the thread is reported by the child itself; the thread then exits.
  worker.on('error', () => undefined);
  worker.on('exit', (code) => {
    child.dead = true;
    child.onExit?.(code, null);
    exitedResolve();
  });
  return child;
}

function jobFields(job: Job): JobFields {
  const src = job as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of JOB_FIELDS) {
    const v = src[key];
    if (v !== undefined && typeof v !== 'function') out[key] = v;
  }
  return toJsonValue(out, 'Job') as JobFields;
}

function toAbortError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  return new Error(reason === undefined ? 'This operation was aborted' : String(reason));
}

/** A pool of children running the processor file `file`. */
export function createSandbox(file: string | URL, opts: SandboxOptions): Sandbox {
  const url = processorUrl(file);
  const entry = childEntry();
  const needsTs = TS_FILE.test(entry.pathname) || TS_FILE.test(new URL(url).pathname);
  const cancelGraceMs = opts.cancelGraceMs ?? 500;
  const maxIdle = Math.max(1, opts.concurrency);
  const idle: Child[] = [];
  const all = new Set<Child>();
  const running = new Set<(err: Error) => void>();
  let closed = false;

  const spawn = (): Child => {
    const child = opts.useWorkerThreads
      ? threadChild(entry, needsTs, opts.threadOptions)
      : forkChild(entry, needsTs, opts.forkOptions);
    all.add(child);
    void child.exited.then(() => {
      all.delete(child);
      const i = idle.indexOf(child);
      if (i >= 0) idle.splice(i, 1);
    });
    return child;
  };

  const acquire = (): Child => {
    for (;;) {
      const child = idle.pop();
      if (!child) return spawn();
      if (!child.dead && !child.retired) return child;
    }
  };

  const retire = (child: Child): void => {
    child.onMessage = undefined;
    child.onExit = undefined;
    child.retired = true;
    child.kill();
  };

  const release = (child: Child): void => {
    child.onMessage = undefined;
    child.onExit = undefined;
    if (child.dead || child.retired) return;
    if (closed || idle.length >= maxIdle) child.kill();
    else idle.push(child);
  };

  const processor: SandboxProcessor = (job, token, signal) => {
    if (closed) return Promise.reject(new Error('Sandbox is closed'));
    if (signal?.aborted) return Promise.reject(toAbortError(signal.reason));
    let fields: JobFields;
    try {
      fields = jobFields(job);
    } catch (err) {
      return Promise.reject(err);
    }
    const child = acquire();
    return new Promise<unknown>((resolvePromise, rejectPromise) => {
      let settled = false;
      let cancelTimer: NodeJS.Timeout | undefined;
      let reusable = true;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (cancelTimer) clearTimeout(cancelTimer);
        signal?.removeEventListener('abort', onAbort);
        running.delete(forceFail);
        if (reusable) release(child);
        else retire(child);
        fn();
      };
      const forceFail = (err: Error) => {
        reusable = false;
        finish(() => rejectPromise(err));
      };
      const onAbort = () => {
        // A timeout or a cancel (issue 21) ends the attempt now: the child is terminated, not asked.
        if (isStopError(signal!.reason)) return forceFail(toAbortError(signal!.reason));
        child.send({ type: 'cancel', reason: serializeAbortReason(signal!.reason) });
        cancelTimer = setTimeout(() => forceFail(toAbortError(signal!.reason)), cancelGraceMs);
      };
      running.add(forceFail);
      signal?.addEventListener('abort', onAbort, { once: true });

      child.onExit = (code, sig) => forceFail(new Error(`Unexpected exit code: ${code} signal: ${sig}`));
      child.onMessage = (msg) => {
        if (settled) return;
        switch (msg.type) {
          case 'done':
            if (!msg.ok) {
              if (msg.fatal) reusable = false;
              const err = deserializeError(msg.error);
              finish(() => rejectPromise(err));
            } else {
              const value = msg.value;
              finish(() => resolvePromise(value));
            }
            break;
          case 'call':
            void forward(job, msg.method, msg.args).then(
              (value) => child.send({ type: 'reply', id: msg.id, ok: true, value }),
              (err) => child.send({ type: 'reply', id: msg.id, ok: false, error: serializeError(err) }),
            );
            break;
        }
      };
      if (child.dead) {
        forceFail(new Error('Sandbox child exited before the job started'));
        return;
      }
      child.send({ type: 'start', file: url, job: fields, token });
    });
  };

  const close = async (): Promise<void> => {
    closed = true;
    for (const fail of [...running]) fail(new Error('Sandbox closed'));
    const children = [...all];
    idle.length = 0;
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.exited));
  };

  return { processor, close };
}

async function forward(job: Job, method: string, args: unknown[]): Promise<unknown> {
  if (!(JOB_METHODS as readonly string[]).includes(method)) throw new Error(`Unknown job method ${method}`);
  // job.step in the child ran its function there: the parent records the value it sends.
  if (method === 'step') return job.step(args[0] as string, () => args[1]);
  const fn = (job as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new Error(`job.${method} is not available`);
  const value = await (fn as (...a: unknown[]) => unknown).apply(job, args);
  return toJsonValue(value, `Result of job.${method}()`);
}
