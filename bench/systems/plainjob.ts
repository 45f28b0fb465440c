import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker, type Logger, type Worker } from 'plainjob';
import { type Adapter, type AdapterConfig, type BenchData, PLAINJOB_POLL_MS, type WorkerHooks } from '../types.js';

const silent: Logger = { error: console.error, warn: () => {}, info: () => {}, debug: () => {} };

/**
 * plainjob on a SQLite file on disk (it sets WAL and `synchronous = NORMAL` itself). It has one
 * sequential worker loop per `defineWorker`, so concurrency N is N workers in the process. No
 * flows, no removal on completion; its `getAndMarkJobAsProcessing` / `markJobAsDone` pair is the
 * manual loop (without a fetch-next step).
 */
export function plainjobAdapter(cfg: AdapterConfig): Adapter {
  const db = new Database(cfg.sqlitePath);
  const queue = defineQueue({ connection: better(db), logger: silent });
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];

  return {
    async ready() {},
    async add(j) {
      queue.add(j.name, j.data, j.delay ? { delay: j.delay } : undefined);
    },
    async addBulk(jobs) {
      if (jobs.every((j) => !j.delay && j.name === jobs[0].name)) {
        queue.addMany(
          jobs[0].name,
          jobs.map((j) => j.data),
        );
        return;
      }
      // plainjob's addMany takes one delay for all; keep each job's own due time exact instead.
      for (const j of jobs) {
        const delay = j.data.due !== undefined ? Math.max(0, j.data.due - Date.now()) : j.delay;
        queue.add(j.name, j.data, delay ? { delay } : undefined);
      }
    },
    async startWorker(hooks: WorkerHooks) {
      const created: Worker[] = [];
      for (let n = 0; n < hooks.concurrency; n++) {
        const worker = defineWorker(
          'job',
          async (job) => {
            const data = JSON.parse(job.data) as BenchData;
            hooks.onStart?.(data);
          },
          {
            queue,
            logger: silent,
            pollIntervall: PLAINJOB_POLL_MS,
            onCompleted: (job) => hooks.onCompleted(job.type, JSON.parse(job.data) as BenchData),
          },
        );
        created.push(worker);
      }
      return () => {
        for (const worker of created) {
          workers.push(worker);
          running.push(worker.start());
        }
      };
    },
    async stopWorker() {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(running);
      workers.length = 0;
      running.length = 0;
    },
    async openManual() {
      return {
        async run(count) {
          let done = 0;
          for (; done < count; done++) {
            const next = queue.getAndMarkJobAsProcessing('job');
            if (!next) break;
            const job = queue.getJobById(next.id);
            JSON.parse(job!.data);
            queue.markJobAsDone(next.id);
          }
          return done;
        },
        async close() {},
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(running);
      queue.close();
      if (db.open) db.close();
    },
  };
}
