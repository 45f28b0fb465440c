import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { sleep } from '../support/processes.js';
import { queueName, until } from '../support/stores.js';

/**
 * PostgreSQL going away under a running worker, as a server restart does to its clients: every
 * connection of this test's pools (queries and LISTEN) is terminated from the server side, again
 * and again, while jobs run. The server itself stays up (other test files share it), so this is the
 * clients' half of a restart: the pool replaces dead clients, failed calls are retried by the worker
 * loop, and no committed job is lost or left active.
 */
const url = () => inject('postgresUrl');
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function cutConnections(applicationName: string): Promise<number> {
  const client = new pg.Client({ connectionString: url() });
  await client.connect();
  try {
    const res = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name IN ($1, 'docket-listener') AND pid <> pg_backend_pid()`,
      [applicationName],
    );
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL connections cut mid-run', () => {
  it('loses no committed job and resumes by itself', { timeout: 120_000 }, async () => {
    const app = `outage_${Math.random().toString(36).slice(2, 8)}`;
    const connection = `${url()}?application_name=${app}`;
    const name = queueName('outage');
    const queue = new Queue(name, { connection });
    open.push(queue);
    const errors: Error[] = [];
    queue.on('error', (err) => errors.push(err));
    const TOTAL = 400;
    const seen = new Set<number>();
    const worker = new Worker(
      name,
      async (job) => {
        await sleep(5);
        seen.add(job.data.i);
        return job.data.i;
      },
      { connection, concurrency: 10, drainDelay: 1, lockDuration: 2_000, stalledInterval: 1_000 },
    );
    open.push(worker);
    worker.on('error', (err) => errors.push(err));
    const added: number[] = [];
    const producer = (async () => {
      for (let i = 0; i < TOTAL; i += 20) {
        const batch = Array.from({ length: 20 }, (_, j) => ({ name: 'j', data: { i: i + j } }));
        for (;;) {
          try {
            await queue.addBulk(batch);
            break;
          } catch {
            await sleep(50); // the add failed with its connection: nothing was committed, so add again
          }
        }
        added.push(...batch.map((b) => b.data.i));
        await sleep(20);
      }
    })();
    let cuts = 0;
    for (let round = 0; round < 4; round++) {
      await sleep(300);
      cuts += await cutConnections(app);
    }
    await producer;
    expect(cuts).toBeGreaterThan(0);
    // A read may meet a pooled client the last cut killed before the pool noticed: it fails (the
    // caller sees the error, as with any lost connection) and the next poll gets a live client.
    await until(
      async () => (await queue.getJobCounts('completed').catch(() => ({ completed: -1 }))).completed === TOTAL,
      90_000,
      'every job to complete',
    );
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    expect(seen.size).toBe(TOTAL);
    expect(added.length).toBe(TOTAL);
  });
});
