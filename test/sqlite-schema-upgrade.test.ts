import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type Job, Queue, Worker } from '../src/index.js';

/**
 * A file written by an older Docket is upgraded in place when opened (src/store/sqlite/schema.ts):
 * version 2 files gain the `steps` column of durable steps (v3), the `cancels` table (v4), then groups'
 * column, index and table (v5), the per-minute counts' table (v6), and keep their jobs.
 */
const dir = mkdtempSync(join(tmpdir(), 'docket-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite schema upgrades', () => {
  it('upgrades a version 2 file (no steps column) and runs durable steps on its jobs', async () => {
    const file = join(dir, 'v2.db');
    const connection = `sqlite:${file}`;
    const before = new Queue('old', { connection });
    await before.add('kept', { n: 1 });
    await before.close();
    // Make it a version 2 file, as Docket wrote it before durable steps.
    const db = new Database(file);
    db.exec('DROP INDEX jobs_by_group; DROP TABLE groups; ALTER TABLE jobs DROP COLUMN grp');
    db.exec('ALTER TABLE jobs DROP COLUMN steps');
    db.exec('DROP TABLE cancels');
    db.exec('DROP TABLE minute_counts');
    db.pragma('user_version = 2');
    db.close();

    const queue = new Queue('old', { connection });
    const worker = new Worker('old', async (job: Job) => job.step('double', () => job.data.n * 2), {
      connection,
      drainDelay: 1,
    });
    try {
      const done = await new Promise<Job>((resolve) => worker.once('completed', resolve));
      expect(done.returnvalue).toBe(2);
      expect((await queue.getJob(done.id!))?.steps).toEqual({ double: 2 });
      const minutes = await queue.store.getMinuteCounts(queue.qualifiedName, 0);
      expect(minutes.map((m) => m.completed)).toEqual([1]);
      // Version 7's counts were filled from the job already there: it left waiting as it completed.
      expect(await queue.getJobCounts('waiting', 'active', 'completed')).toEqual({
        waiting: 0,
        active: 0,
        completed: 1,
      });
    } finally {
      await worker.close();
      await queue.close();
    }
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(7);
    expect(
      after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('groups', 'jobs_by_group')").get(),
    ).toEqual({
      n: 2,
    });
    after.close();
  });
});
