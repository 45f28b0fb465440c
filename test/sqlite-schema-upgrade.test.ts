import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type Job, Queue, Worker } from '../src/index.js';

/**
 * A file written by an older Docket is upgraded in place when opened (src/store/sqlite/schema.ts):
 * version 2 files gain the `steps` column of durable steps (v3), the `cancels` table (v4), then groups'
 * column, index and table (v5), the per-minute counts' table (v6), the event cap's column (v9), and keep their jobs.
 */
const dir = mkdtempSync(join(tmpdir(), 'docket-upgrade-'));

/** The event log as versions 1 to 7 wrote it: a global AUTOINCREMENT id and an index on (queue, id). */
function oldEventLog(db: Database.Database): void {
  db.exec(`ALTER TABLE events RENAME TO events_new;
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, event TEXT NOT NULL, fields TEXT NOT NULL);
CREATE INDEX events_by_queue ON events (queue, id);
INSERT INTO events (id, queue, event, fields) SELECT NULL, queue, event, fields FROM events_new ORDER BY queue, id;
DROP TABLE events_new;`);
}
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
    db.exec('ALTER TABLE queues DROP COLUMN max_events');
    oldEventLog(db);
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
      // Version 9's event cap, written by the Queue that opened the upgraded file.
      expect(await queue.getMeta()).toMatchObject({ maxLenEvents: 10000 });
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
    expect(after.pragma('user_version', { simple: true })).toBe(9);
    expect(
      after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('groups', 'jobs_by_group')").get(),
    ).toEqual({
      n: 2,
    });
    after.close();
  });

  it('upgrades a version 7 event log: old events stay readable, new ones come after them', async () => {
    const file = join(dir, 'v7.db');
    const connection = `sqlite:${file}`;
    const before = new Queue('ev', { connection });
    await before.add('first', {});
    await before.add('second', {});
    await before.close();
    const db = new Database(file);
    oldEventLog(db);
    db.exec('DROP TRIGGER jobs_counted_in; DROP TRIGGER jobs_counted_out; DROP TRIGGER jobs_counted_moved');
    db.exec('DROP TABLE state_counts');
    db.exec('ALTER TABLE queues DROP COLUMN max_events');
    db.pragma('user_version = 6');
    const oldIds = db.prepare('SELECT id FROM events ORDER BY id').pluck().all() as number[];
    db.close();
    expect(oldIds).toEqual([1, 2, 3, 4]); // added + waiting per job, numbered as version 7 numbered them

    const queue = new Queue('ev', { connection });
    try {
      await queue.add('third', {});
      const store = queue.store;
      const events = await store.readEvents(queue.qualifiedName, '0', 0, new AbortController().signal);
      expect(events.map((e) => [e.event, e.jobId])).toEqual([
        ['added', '1'],
        ['waiting', '1'],
        ['added', '2'],
        ['waiting', '2'],
        ['added', '3'],
        ['waiting', '3'],
      ]);
      expect(events.slice(0, 4).map((e) => Number(e.id))).toEqual(oldIds);
      const newIds = events.slice(4).map((e) => Number(e.id));
      expect(newIds[0]).toBeGreaterThan(oldIds[3]);
      expect(newIds[1]).toBeGreaterThan(newIds[0]);
      // A reader that had read the old log up to its end gets only the new events.
      const rest = await store.readEvents(queue.qualifiedName, String(oldIds[3]), 0, new AbortController().signal);
      expect(rest.map((e) => e.jobId)).toEqual(['3', '3']);
    } finally {
      await queue.close();
    }
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(9);
    expect(
      after.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'events%' ORDER BY name").pluck().all(),
    ).toEqual(['events']);
    after.close();
  });
});
