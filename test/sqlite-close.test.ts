import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from '../src/index.js';
import { queueName, until } from './support/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-close-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshFile = () => join(dir, `close-${files++}.db`);

/**
 * What another program sees the moment close() resolved: no `-wal` / `-shm` left (SQLite removes
 * them when the last connection closes), an integrity check that does not wait for any lock
 * (busy timeout 0), and a file that can be deleted.
 */
function expectReleased(file: string): void {
  expect(existsSync(`${file}-wal`)).toBe(false);
  expect(existsSync(`${file}-shm`)).toBe(false);
  const other = new Database(file, { timeout: 0 });
  try {
    expect(other.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    other.close();
  }
  rmSync(file);
  expect(existsSync(file)).toBe(false);
}

/**
 * Waits until the checkpointer thread copied the new file's first pages from the WAL: its connection
 * is open then, so close() has a second connection to release.
 */
async function checkpointerRunning(file: string): Promise<void> {
  await until(() => statSync(file).size > 0, 10_000, 'the first checkpoint');
}

describe('close() on SQLite releases the file before it resolves', () => {
  it('Queue', async () => {
    const file = freshFile();
    const queue = new Queue(queueName(), { connection: `sqlite:${file}` });
    await queue.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'j', data: { i } })));
    await checkpointerRunning(file);
    await queue.close();
    expectReleased(file);
  });

  it('Worker', async () => {
    const file = freshFile();
    const worker = new Worker(queueName(), async () => 'ok', { connection: `sqlite:${file}` });
    await worker.waitUntilReady();
    await checkpointerRunning(file);
    await worker.close();
    expectReleased(file);
  });

  it('QueueEvents', async () => {
    const file = freshFile();
    const events = new QueueEvents(queueName(), { connection: `sqlite:${file}` });
    await events.waitUntilReady();
    await checkpointerRunning(file);
    await events.close();
    expectReleased(file);
  });

  it('Queue, Worker and QueueEvents after processing, five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const file = freshFile();
      const connection = `sqlite:${file}`;
      const name = queueName();
      const queue = new Queue(name, { connection });
      const events = new QueueEvents(name, { connection });
      const worker = new Worker(name, async (job) => job.data.i, { connection, concurrency: 10 });
      try {
        await events.waitUntilReady();
        await queue.addBulk(Array.from({ length: 500 }, (_, i) => ({ name: 'j', data: { i } })));
        await until(async () => (await queue.getCompletedCount()) === 500, 20_000, 'every job completed');
      } finally {
        await Promise.all([worker.close(), events.close(), queue.close()]);
      }
      expectReleased(file);
    }
  });
});
