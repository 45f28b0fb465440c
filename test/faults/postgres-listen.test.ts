import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Queue, QueueEvents, Worker } from '../../src/index.js';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { type Child, forkReady, stopChild } from '../support/processes.js';
import { queueName, until } from '../support/stores.js';

/**
 * PostgreSQL wake-ups (listener.ts): workers and QueueEvents wait on LISTEN, not on a poll. Each
 * worker here has a drainDelay of 60 s, so a job picked up within seconds was woken by NOTIFY
 * (bounds are loose: the machine is loaded; latency is measured by `npm run bench`, not here).
 */
const DRAIN_DELAY_S = 60;
const PROMPT_MS = 5_000;
const url = () => inject('postgresUrl');
const childWorker = new URL('../support/child-worker.ts', import.meta.url).pathname;

const open: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(x: T): T => {
  open.push(x);
  return x;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function terminate(pid: number): Promise<void> {
  const client = new pg.Client({ connectionString: url() });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL LISTEN/NOTIFY wake-ups', () => {
  it('a worker in another process picks a new job up long before its drainDelay', { timeout: 90_000 }, async () => {
    const name = queueName('notify');
    const queue = track(new Queue(name, { connection: url() }));
    const events = track(new QueueEvents(name, { connection: url() }));
    await events.waitUntilReady();
    let child: Child | undefined;
    try {
      child = await forkReady(childWorker, [url(), name, '1', String(DRAIN_DELAY_S)]);
      for (let i = 0; i < 3; i++) {
        const added = Date.now();
        const job = await queue.add('x', { ms: 1 });
        await job.waitUntilFinished(events, PROMPT_MS);
        expect(Date.now() - added).toBeLessThan(PROMPT_MS);
      }
    } finally {
      if (child) await stopChild(child);
    }
  });

  it('re-establishes a LISTEN connection that was terminated, and wakes on it again', { timeout: 60_000 }, async () => {
    const name = queueName('relisten');
    // A connection of its own (the application_name parameter makes a pool apart from the other tests').
    const connection = `${url()}?application_name=relisten`;
    const queue = track(new Queue(name, { connection }));
    const errors: Error[] = [];
    const worker = track(new Worker(name, async () => 'ok', { connection, drainDelay: DRAIN_DELAY_S }));
    worker.on('error', (err) => errors.push(err));
    await worker.waitUntilReady();
    const store = (worker as unknown as { store: PostgresStore }).store;
    const first = await until(() => store.listenerPid, 10_000, 'the LISTEN connection');
    await terminate(first);
    const second = await until(
      () => (store.listenerPid !== first ? store.listenerPid : undefined),
      10_000,
      'a new LISTEN connection',
    );
    expect(second).not.toBe(first);
    // Give the worker time to go back to its (60 s) wait after the wake-up the drop caused.
    await until(async () => (await queue.getJobCounts('active')).active === 0, 5_000, 'an idle worker');
    const added = Date.now();
    const job = await queue.add('after', {});
    await until(async () => (await job.getState()) === 'completed', PROMPT_MS, 'the job to complete');
    expect(Date.now() - added).toBeLessThan(PROMPT_MS);
    expect(errors.every((e) => /terminat|Connection/i.test(e.message))).toBe(true);
  });

  it('leaves an idle worker without queries between its heartbeats and stalled checks', {
    timeout: 30_000,
  }, async () => {
    const app = `idle_${Math.random().toString(36).slice(2, 8)}`;
    const connection = `${url()}?application_name=${app}`;
    // drainDelay 1 s: a worker polling its queue would query every second.
    const worker = track(new Worker(queueName('idle'), async () => 'ok', { connection, drainDelay: 1 }));
    const drained = new Promise((resolve) => worker.once('drained', resolve));
    await worker.waitUntilReady();
    await drained;
    await new Promise((r) => setTimeout(r, 2_500)); // the idle window under test
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      const { rows } = await client.query<{ quiet_ms: number }>(
        `SELECT (extract(epoch from now() - max(state_change)) * 1000)::int AS quiet_ms FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`,
        [app],
      );
      expect(rows[0].quiet_ms).toBeGreaterThan(1_500);
    } finally {
      await client.end();
    }
  });

  it('runs a delayed job when it comes due, with the worker waiting on LISTEN', { timeout: 30_000 }, async () => {
    const name = queueName('due');
    const queue = track(new Queue(name, { connection: url() }));
    const worker = track(new Worker(name, async () => 'ok', { connection: url(), drainDelay: DRAIN_DELAY_S }));
    await worker.waitUntilReady();
    const job = await queue.add('later', {}, { delay: 500 });
    await until(async () => (await job.getState()) === 'completed', PROMPT_MS + 500, 'the delayed job to run');
    const done = await queue.getJob(job.id!);
    expect(done!.processedOn! - (job.timestamp + 500)).toBeLessThan(PROMPT_MS);
    expect(done!.processedOn!).toBeGreaterThanOrEqual(job.timestamp + 500);
  });
});
