import pg from 'pg';
import { afterEach, expect, inject, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { sleep } from '../support/processes.js';
import { queueName, until } from '../support/stores.js';

/**
 * An idle worker's only periodic query is its stalled check (issue 19: a serverless PostgreSQL
 * sleeps between queries): its heartbeat, written every 10 s by itself before, rides in the stalled
 * check's transaction (src/store/postgres/heartbeats.ts). Every statement the worker's pool sends is
 * recorded by wrapping each client the pool connects (the LISTEN connection, a client of its own,
 * sends nothing after LISTEN). The window is past the 10 s heartbeat, with a stalled check every 3 s.
 */
const url = () => inject('postgresUrl');
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

const STALLED_INTERVAL = 3_000;
const WINDOW_MS = 11_500;

/** A pool whose clients record every statement they send, with when. */
function recordingPool(): { pool: pg.Pool; sent: { at: number; text: string }[] } {
  const pool = new pg.Pool({ connectionString: url() });
  const sent: { at: number; text: string }[] = [];
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string };
      sent.push({ at: Date.now(), text: typeof first === 'string' ? first : (first.text ?? '') });
      return query(...args);
    };
  });
  return { pool, sent };
}

it('an idle worker sends nothing but its stalled checks, which keep it listed', { timeout: 60_000 }, async () => {
  const { pool, sent } = recordingPool();
  open.push({ close: () => pool.end() });
  const name = queueName('idle-pg');
  const queue = new Queue(name, { connection: url() }); // its own pool: not recorded
  const worker = new Worker(name, async () => undefined, { connection: pool, stalledInterval: STALLED_INTERVAL });
  open.unshift(worker, queue); // closed before the pool ends
  await until(async () => (await queue.getWorkers()).length === 1, 10_000, 'the worker to be listed');
  // A stalled check's first round trip: BEGIN, the queue's lock, and this process's heartbeats.
  const isStalledCheck = (text: string) =>
    text.startsWith('BEGIN') && text.includes('pg_advisory_xact_lock') && text.includes('.workers');
  const stalledChecks = () => sent.filter((s) => isStalledCheck(s.text)).length;
  const checksBefore = stalledChecks();
  await until(() => stalledChecks() > checksBefore, 10_000, 'a first periodic stalled check');

  const start = Date.now();
  await sleep(WINDOW_MS);
  // From the first BEGIN in the window: what came before it ends the check that was running at its start.
  const recorded = sent.filter((s) => s.at >= start);
  const window = recorded.slice(
    Math.max(
      0,
      recorded.findIndex((s) => s.text.startsWith('BEGIN')),
    ),
  );

  // Statements grouped by transaction: each must be a stalled check (a heartbeat of its own would
  // be a transaction starting with a bare BEGIN).
  const transactions: string[][] = [];
  for (const { text } of window) {
    if (text.startsWith('BEGIN')) transactions.push([]);
    const current = transactions.at(-1);
    if (!current) throw new Error(`a statement outside any transaction: ${text}`);
    current.push(text);
  }
  const report = JSON.stringify(window.map((s) => s.text.slice(0, 80)));
  expect(transactions.length, report).toBeGreaterThanOrEqual(Math.floor(WINDOW_MS / STALLED_INTERVAL) - 1);
  for (const statements of transactions) expect(isStalledCheck(statements[0]), report).toBe(true);
  // The heartbeat was written meanwhile, by those checks: the worker stays listed, freshly.
  const [listed] = await queue.getWorkers();
  expect(listed?.id).toBe(worker.id);
  expect(listed?.idle, 'seconds since its last heartbeat').toBeLessThanOrEqual((2 * STALLED_INTERVAL) / 1000);
});
