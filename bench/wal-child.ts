/**
 * One side of the WAL benchmark (bench/wal.ts), in its own process:
 *   producer <task JSON>: keeps `backlog` jobs waiting with addBulk until `jobs` were added;
 *   worker <task JSON>: processes no-op jobs until `jobs` completed, then idles until told to close.
 * Messages to the parent: { type: 'ready' }, { type: 'progress', n }, { type: 'done', ... }.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDocket } from './systems/docket.js';

export interface WalTask {
  file: string;
  queue: string;
  jobs: number;
  backlog: number;
  concurrency: number;
  docketFrom: 'src' | 'dist';
  /** SqliteOptions passed as is (e.g. `{ maxWalBytes }`); an older Docket ignores what it does not know. */
  sqlite: Record<string, unknown>;
}

/**
 * The producer yields to the event loop between batches, so its loop delay shows stalls that come from
 * the store (a lock waited for synchronously, a checkpoint on the event loop). The worker's does not:
 * processing no-op jobs back to back runs as one chain of promise callbacks, which holds timers back.
 */
export interface ProducerDone {
  type: 'done';
  added: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

export interface WorkerDone {
  type: 'done';
  completed: number;
  ms: number;
  /** Event-loop delay of the worker process while it drained, in ms. */
  loopP99Ms: number;
  loopMaxMs: number;
}

const BATCH = 1000;

async function producer(task: WalTask): Promise<void> {
  const { Queue } = await loadDocket(task.docketFrom);
  const queue = new Queue(task.queue, {
    connection: `sqlite:${task.file}`,
    sqlite: task.sqlite,
    defaultJobOptions: { removeOnComplete: true },
  });
  await queue.waitUntilReady();
  process.send?.({ type: 'ready' });
  await once('start');
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let added = 0;
  while (added < task.jobs) {
    // Keep the queue full: top it up whenever the worker has eaten into the backlog.
    if ((await queue.getWaitingCount()) > task.backlog - BATCH) {
      await sleep(5);
      continue;
    }
    const n = Math.min(BATCH, task.jobs - added);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'j', data: { i: added + k } })));
    added += n;
  }
  loop.disable();
  await queue.close();
  const done: ProducerDone = { type: 'done', added, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 };
  process.send?.(done);
}

async function worker(task: WalTask): Promise<void> {
  const { Worker } = await loadDocket(task.docketFrom);
  let completed = 0;
  let t0 = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const w = new Worker(task.queue, async () => undefined, {
    connection: `sqlite:${task.file}`,
    sqlite: task.sqlite,
    concurrency: task.concurrency,
    autorun: false,
  });
  w.on('error', (err) => console.error('worker error', err));
  const finished = new Promise<void>((resolve) => {
    w.on('completed', () => {
      completed++;
      if (completed % 10_000 === 0) process.send?.({ type: 'progress', n: completed });
      if (completed === task.jobs) resolve();
    });
  });
  await w.waitUntilReady();
  process.send?.({ type: 'ready' });
  await once('start');
  t0 = performance.now();
  loop.enable();
  void w.run();
  await finished;
  const ms = performance.now() - t0;
  loop.disable();
  const done: WorkerDone = {
    type: 'done',
    completed,
    ms,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
  };
  process.send?.(done);
  // Stay open (idle) until the parent has watched the WAL after the load stopped.
  await once('close');
  await w.close();
  process.send?.({ type: 'closed' });
}

function once(message: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (msg: unknown) => {
      if (msg !== message) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

const [role, json] = process.argv.slice(2);
const task = JSON.parse(json ?? '') as WalTask;
(role === 'producer' ? producer(task) : worker(task)).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
