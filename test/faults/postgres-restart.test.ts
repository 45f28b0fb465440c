import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { PostgresServer, postgresBinDir } from '../support/postgres-server.js';
import { sleep } from '../support/processes.js';
import { queueName, until } from '../support/stores.js';

/**
 * PostgreSQL itself restarted under a running worker (issue 19): a server of this test's own, stopped
 * as a crash would stop it (`pg_ctl restart -m immediate`: recovery from the WAL) while jobs are added
 * and processed. No committed job is lost or stored twice, and the worker and the producer carry on
 * by themselves, the LISTEN connection included. test/faults/postgres-outage.test.ts cuts
 * connections of the shared server instead, again and again.
 */
const bin = postgresBinDir();
const server = bin ? new PostgresServer(bin) : undefined;

beforeAll(async () => {
  await server?.start();
}, 120_000);
afterAll(async () => {
  await server?.destroy();
}, 60_000);

async function listeners(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'docket-listener'",
    );
    return res.rows[0].n as number;
  } finally {
    await client.end();
  }
}

const title = server
  ? 'PostgreSQL restarted mid-run'
  : 'PostgreSQL restarted mid-run (skipped: no initdb/pg_ctl under /usr/lib/postgresql/*/bin; .ci/run installs them)';

describe.skipIf(!server)(title, () => {
  it('loses no committed job, stores none twice, and the worker resumes by itself', { timeout: 180_000 }, async () => {
    const url = server!.url;
    const name = queueName('restart');
    const queue = new Queue(name, { connection: url });
    const worker = new Worker(
      name,
      async (job) => {
        await sleep(2);
        return job.data.i;
      },
      // drainDelay 30 s: without its LISTEN connection back, the last job would wait for a poll that long.
      { connection: url, concurrency: 10, lockDuration: 2_000, stalledInterval: 1_000, drainDelay: 30 },
    );
    const errors: Error[] = [];
    queue.on('error', (err) => errors.push(err));
    worker.on('error', (err) => errors.push(err));
    try {
      await worker.waitUntilReady();
      const TOTAL = 300;
      let added = 0;
      // One at a time, each with its own id: an add whose reply the restart lost is sent again, and
      // the id makes that a no-op when the first one committed.
      const producer = (async () => {
        for (let i = 0; i < TOTAL; i++) {
          for (;;) {
            try {
              await queue.add('j', { i }, { jobId: `j-${i}` });
              break;
            } catch {
              await sleep(50);
            }
          }
          added++;
          await sleep(3);
        }
      })();
      // Reads in the polls below may fail while the server is down: read again.
      const completed = async () => (await queue.getJobCounts('completed').catch(() => ({ completed: -1 }))).completed;
      await until(async () => (await completed()) >= 50, 60_000, '50 jobs done');
      const listenersBefore = await listeners(url);
      await server!.restart('immediate');
      const addedAtRestart = added;
      await producer;
      expect(addedAtRestart).toBeLessThan(TOTAL); // the restart came while jobs were still being added

      await until(async () => (await completed()) === TOTAL, 90_000, 'every job to complete after the restart');
      expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')).toEqual({
        waiting: 0,
        active: 0,
        delayed: 0,
        failed: 0,
        completed: TOTAL,
      });
      const done = await queue.getJobs(['completed'], 0, -1);
      const ids = new Set(done.map((job) => job.data.i as number));
      expect(ids.size).toBe(TOTAL);
      expect(done.every((job) => job.id === `j-${job.data.i}` && job.returnvalue === job.data.i)).toBe(true);
      // The LISTEN connection came back without anyone asking.
      expect(listenersBefore).toBeGreaterThanOrEqual(1);
      await until(async () => (await listeners(url).catch(() => 0)) >= 1, 30_000, 'the LISTEN connection to be back');

      // A job added now is taken without a poll (drainDelay): the worker waits on LISTEN again.
      const job = await queue.add('after', { i: -1 });
      await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'a job added after');
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
