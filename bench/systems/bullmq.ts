import { createPostgresBackend, FlowProducer, Job, Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import type { Adapter, AdapterConfig, BenchData, NewBenchJob, WorkerHooks } from '../types.js';
import { jobOpts, needPg } from './options.js';

/** `redis://host:port` → the ioredis options BullMQ takes as `connection`. */
export function redisOptions(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

/**
 * BullMQ with its defaults, on the same redis-server (or Redis Cluster) as Docket, or on PostgreSQL
 * through its own backend (`createPostgresBackend`, bullmq ≥ 6.7) in the measurement's database.
 */
export function bullmqAdapter(cfg: AdapterConfig, store: 'redis' | 'postgres' = 'redis'): Adapter {
  // On a cluster, one ioredis Cluster for the queue and its worker (BullMQ duplicates it to block).
  const cluster = cfg.cluster ? new Cluster(cfg.cluster, { redisOptions: { maxRetriesPerRequest: null } }) : undefined;
  // BullMQ's PostgreSQL backend creates its schema only when asked (`migrate: true`).
  const connection: any =
    store === 'postgres' ? { connectionString: needPg(cfg), migrate: true } : (cluster ?? redisOptions(cfg.redisUrl));
  // The backend factory goes last in every constructor; undefined keeps BullMQ's Redis default.
  const backend: any = store === 'postgres' ? createPostgresBackend : undefined;
  const queue = new Queue<BenchData>(
    cfg.queue,
    { connection, defaultJobOptions: cfg.removeOnComplete ? { removeOnComplete: true } : {} },
    backend,
  );
  let worker: Worker<BenchData> | undefined;
  let flows: FlowProducer | undefined;

  const toBulk = (j: NewBenchJob) => ({ name: j.name, data: j.data, opts: jobOpts(j) });

  return {
    ready: () => queue.waitUntilReady().then(() => undefined),
    async add(j) {
      await queue.add(j.name, j.data, jobOpts(j));
    },
    async addBulk(jobs) {
      await queue.addBulk(jobs.map(toBulk));
    },
    async startWorker(hooks: WorkerHooks) {
      const onStart = hooks.onStart;
      const w = new Worker<BenchData>(
        cfg.queue,
        async (job) => {
          onStart?.(job.data);
        },
        { connection, concurrency: hooks.concurrency, autorun: false },
        backend,
      );
      w.on('completed', (job) => hooks.onCompleted(job.name, job.data));
      w.on('error', (err) => console.error('bullmq worker error', err));
      await w.waitUntilReady();
      worker = w;
      return () => void w.run();
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async addFlows(first, count, children) {
      flows ??= new FlowProducer({ connection }, backend);
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
      const w = new Worker<BenchData>(cfg.queue, null, { connection, autorun: false }, backend);
      await w.waitUntilReady();
      const token = 'bench-token';
      return {
        async run(count) {
          let done = 0;
          let job: Job<BenchData> | undefined = await w.getNextJob(token, { block: false });
          while (job && done < count) {
            const next = (await job.moveToCompleted('ok', token, done + 1 < count)) as [unknown, string] | undefined;
            done++;
            job = next?.[0] ? Job.fromJSON(w, next[0] as Parameters<typeof Job.fromJSON>[1], next[1]) : undefined;
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
