import BeeQueue from 'bee-queue';
import type { Adapter, AdapterConfig, BenchData, NewBenchJob, WorkerHooks } from '../types.js';

/**
 * bee-queue 2 with its defaults (events on, `delayedDebounce` 1000 ms), on the same redis-server.
 * No flows and no manual fetching. The name of a job is kept in its data (bee-queue has none).
 */
export function beeQueueAdapter(cfg: AdapterConfig): Adapter {
  type Data = BenchData & { name?: string };
  const redis = { url: cfg.redisUrl };
  const producer = new BeeQueue<Data>(cfg.queue, { redis, isWorker: false, getEvents: false });
  let worker: BeeQueue<Data> | undefined;

  const create = (j: NewBenchJob) => {
    const job = producer.createJob(j.name === 'job' ? j.data : { ...j.data, name: j.name });
    if (j.delay) job.delayUntil(j.data.due ?? Date.now() + j.delay);
    return job;
  };

  return {
    ready: () => producer.ready().then(() => undefined),
    async add(j) {
      await create(j).save();
    },
    async addBulk(jobs) {
      const errors = await producer.saveAll(jobs.map(create));
      if (errors.size > 0) throw [...errors.values()][0];
    },
    async startWorker(hooks: WorkerHooks) {
      const w = new BeeQueue<Data>(cfg.queue, {
        redis,
        getEvents: false,
        activateDelayedJobs: true,
        removeOnSuccess: cfg.removeOnComplete,
      });
      w.on('succeeded', (job) => hooks.onCompleted(job.data.name ?? 'job', job.data));
      w.on('error', (err) => console.error('bee-queue worker error', err));
      await w.ready();
      worker = w;
      const onStart = hooks.onStart;
      return () =>
        w.process(hooks.concurrency, async (job) => {
          onStart?.(job.data);
        });
    },
    async stopWorker() {
      await worker?.close(30_000);
      worker = undefined;
    },
    async close() {
      await worker?.close(30_000);
      await producer.close();
    },
  };
}
