import { Cluster } from 'ioredis';
import type { QueueBaseOptions, Worker } from '../../src/index.js';
import type { Adapter, AdapterConfig, BenchData, NewBenchJob, WorkerHooks } from '../types.js';
import { jobOpts, needPg } from './options.js';

export type DocketStore = 'redis' | 'sqlite' | 'sqlite-full' | 'postgres' | 'postgres-async';

/** Docket's public module: `src/index.ts` (through tsx) or the built `dist/esm/index.js`. */
export type DocketLib = typeof import('../../src/index.js');

/** Loads Docket from its TypeScript source (default) or from `dist/` (after `npm run build`). */
export async function loadDocket(from: 'src' | 'dist'): Promise<DocketLib> {
  const path = from === 'dist' ? '../../dist/esm/index.js' : '../../src/index.js';
  return (await import(path)) as DocketLib;
}

/**
 * Docket through its public API only. SQLite: a file on disk in WAL mode with Docket's default
 * `synchronous = NORMAL` (survives a process crash), or `FULL` (also survives power loss).
 */
export function docketAdapter(lib: DocketLib, store: DocketStore, cfg: AdapterConfig): Adapter {
  const { FlowProducer, Job, Queue, Worker } = lib;
  // On a cluster, one ioredis Cluster for the queue and its worker (Docket duplicates it to block), as BullMQ's.
  const cluster =
    store === 'redis' && cfg.cluster
      ? new Cluster(cfg.cluster, { redisOptions: { maxRetriesPerRequest: null } })
      : undefined;
  const base: QueueBaseOptions =
    store === 'redis'
      ? { connection: cluster ?? cfg.redisUrl }
      : store === 'postgres' || store === 'postgres-async'
        ? { connection: needPg(cfg), postgres: { synchronousCommit: store === 'postgres' } }
        : {
            connection: `sqlite:${cfg.sqlitePath}`,
            sqlite: { synchronous: store === 'sqlite-full' ? 'FULL' : 'NORMAL' },
          };
  const queue = new Queue<BenchData>(cfg.queue, {
    ...base,
    defaultJobOptions: cfg.removeOnComplete ? { removeOnComplete: true } : {},
  });
  let worker: Worker<BenchData> | undefined;
  let storeCalls = 0;
  let flows: InstanceType<DocketLib['FlowProducer']> | undefined;

  const toBulk = (j: NewBenchJob) => ({ name: j.name, data: j.data, opts: jobOpts(j) });

  return {
    ready: () => queue.waitUntilReady(),
    async add(j) {
      await queue.add(j.name, j.data, jobOpts(j));
    },
    async addBulk(jobs) {
      await queue.addBulk(jobs.map(toBulk));
    },
    async startWorker(hooks: WorkerHooks) {
      const onStart = hooks.onStart;
      const batch = hooks.batch;
      const w = new Worker<BenchData>(
        cfg.queue,
        async (job) => {
          if (batch) for (const j of job.getBatch()) onStart?.(j.data);
          else onStart?.(job.data);
        },
        { ...base, concurrency: hooks.concurrency, autorun: false, ...(batch && { batch: { size: batch } }) },
      );
      // A batch worker's events are the batch's: each of its jobs completed.
      w.on('completed', (job) => {
        if (!batch) return hooks.onCompleted(job.name, job.data);
        for (const j of job.getBatch()) hooks.onCompleted(j.name, j.data);
      });
      storeCalls = 0;
      countStoreCalls(w, () => storeCalls++);
      w.on('error', (err) => console.error('docket worker error', err));
      await w.waitUntilReady();
      worker = w;
      return () => void w.run();
    },
    storeCalls: () => storeCalls,
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async addFlows(first, count, children) {
      flows ??= new FlowProducer(base);
      const trees = [];
      for (let p = first; p < first + count; p++) {
        trees.push({
          name: 'parent',
          queueName: cfg.queue,
          data: { i: p },
          children: Array.from({ length: children }, (_, c) => ({
            name: 'child',
            queueName: cfg.queue,
            data: { i: p * children + c },
          })),
        });
      }
      await flows.addBulk(trees);
    },
    async openManual() {
      const w = new Worker<BenchData>(cfg.queue, null, { ...base, autorun: false });
      await w.waitUntilReady();
      const token = 'bench-token';
      return {
        async run(count) {
          let done = 0;
          let job = await w.getNextJob(token, { block: false });
          while (job && done < count) {
            const next = await job.moveToCompleted('ok', token, done + 1 < count);
            done++;
            job = next.length === 4 ? Job.fromJSON<BenchData>(w, next[0], next[1]) : undefined;
          }
          return done;
        },
        close: () => w.close(),
      };
    },
    async close() {
      await worker?.close();
      await flows?.close();
      await queue.close();
      cluster?.disconnect();
    },
  };
}

/** Counts the worker-path calls a worker makes to its store (the bench's "store calls per job"). */
function countStoreCalls(worker: object, count: () => void): void {
  const store = (worker as unknown as { store: Record<string, unknown> }).store;
  for (const name of ['fetchNext', 'complete', 'fail', 'extendLocks', 'recoverStalled', 'moveToWait']) {
    const method = store[name] as (...args: unknown[]) => unknown;
    store[name] = (...args: unknown[]) => {
      count();
      return method.apply(store, args);
    };
  }
}
