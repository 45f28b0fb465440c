import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';
import { Checkpointer } from '../src/store/sqlite/checkpointer.js';
import { type Child, forkReady, killChild, stopChild } from './support/processes.js';
import { queueName, until } from './support/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite WAL checkpoints', () => {
  it('keeps checkpointing, from its own thread, with automatic checkpoints off', async () => {
    const file = join(dir, 'q.db');
    const queue = new Queue(queueName(), { connection: `sqlite:${file}` });
    try {
      await queue.waitUntilReady();
      const before = statSync(file).size;
      // Commits go to the WAL; the committing connection never checkpoints (wal_autocheckpoint = 0),
      // so the main file only grows when the checkpointer thread copies the pages over.
      for (let i = 0; i < 20; i++) {
        await queue.addBulk(Array.from({ length: 500 }, (_, n) => ({ name: 'x', data: { n, pad: 'p'.repeat(200) } })));
      }
      await until(() => statSync(file).size > before + 1_000_000, 20_000, 'the database file to grow');
      expect(await queue.count()).toBe(10_000);
    } finally {
      await queue.close();
    }
  });

  it('refuses a maxWalBytes below 1 MiB or not an integer, and a synchronous it does not know', () => {
    const connection = `sqlite:${join(dir, 'refused.db')}`;
    for (const sqlite of [{ maxWalBytes: 1000 }, { maxWalBytes: 2 ** 20 + 0.5 }, { synchronous: 'OFF' }]) {
      expect(() => new Queue(queueName(), { connection, sqlite: sqlite as never })).toThrow(
        /sqlite\.(maxWalBytes|synchronous)/,
      );
    }
  });

  it('goes on writing while a reader outside Docket holds an old snapshot, and empties the WAL once it let go', async () => {
    const file = join(dir, 'reader.db');
    const wal = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    const queue = new Queue(queueName(), { connection: `sqlite:${file}`, sqlite: { maxWalBytes: 2 ** 20 } });
    try {
      await queue.waitUntilReady();
      // A read transaction left open: no checkpoint can empty the WAL meanwhile, so the writers,
      // held back while the checkpointer tries, must be let go again (or they would wait forever).
      const reader = new Database(file);
      try {
        reader.exec('BEGIN');
        reader.prepare('SELECT count(*) FROM jobs').get();
        for (let i = 0; i < 20; i++) {
          await queue.addBulk(
            Array.from({ length: 500 }, (_, n) => ({ name: 'x', data: { n, pad: 'p'.repeat(200) } })),
          );
        }
        expect(await queue.count()).toBe(10_000);
        expect(wal()).toBeGreaterThan(2 ** 20);
      } finally {
        reader.close();
      }
      await until(() => wal() === 0, 15_000, 'the WAL to be emptied once the reader let go');
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('keeps the WAL bounded when its thread looks too late: the writers look too, and wait', async () => {
    const file = join(dir, 'starved.db');
    const wal = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (pad TEXT)');
    const truncateAt = 2 ** 20;
    // A thread that looks at the WAL every 300 ms, as one starved of CPU did: 20 MB are written
    // between two of its looks, so without the writers' own look the WAL would pass 10 MB.
    const checkpointer = new Checkpointer(db, file, truncateAt, 200, { sizeCheckMs: 300 });
    const insert = db.prepare('INSERT INTO t (pad) VALUES (?)');
    const write = db.transaction(() => {
      for (let i = 0; i < 25; i++) insert.run('p'.repeat(4000));
    });
    let peak = 0;
    let waits = 0;
    try {
      for (let n = 0; n < 200; n++) {
        if (checkpointer.writesPaused) {
          waits++;
          await checkpointer.writesResumed();
        }
        write();
        peak = Math.max(peak, wal());
      }
      // Writers hold at twice the truncation point (looking every few ms): under the bound, 4× it.
      expect(peak).toBeLessThanOrEqual(4 * truncateAt);
      expect(waits).toBeGreaterThan(0);
    } finally {
      db.close();
      await checkpointer.stop();
    }
  });

  it('keeps the WAL under sqlite.maxWalBytes while another process keeps the queue full, and empties it when the load stops', async () => {
    const file = join(dir, 'load.db');
    const maxWalBytes = 4 * 2 ** 20;
    const jobs = Number(process.env.WAL_JOBS ?? 20_000);
    const wal = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    const child = new URL('./support/wal-load-child.ts', import.meta.url).pathname;
    const args = [file, queueName(), String(jobs), String(maxWalBytes)];
    const children: Child[] = [];
    let peak = 0;
    let shrinks = 0;
    let last = 0;
    // This process does nothing else meanwhile, so its timer samples the file every few ms.
    const sampler = setInterval(() => {
      const size = wal();
      if (size < last) shrinks++;
      last = size;
      peak = Math.max(peak, size);
    }, 2);
    try {
      children.push(await forkReady(child, ['worker', ...args]));
      children.push(await forkReady(child, ['producer', ...args]));
      await Promise.all(children.map((c) => message(c, 'done')));
      // The load was enough to need the bound: the WAL reached the point where it is emptied, again and again.
      expect(peak).toBeGreaterThanOrEqual(maxWalBytes / 4);
      expect(shrinks).toBeGreaterThanOrEqual(3);
      expect(peak).toBeLessThanOrEqual(maxWalBytes);
      // The worker is still open, idle: the WAL is given back.
      await until(() => wal() === 0, 10_000, 'the WAL to be emptied after the load');
    } finally {
      clearInterval(sampler);
      await stopChild(children[0]).catch(() => undefined);
      await Promise.all(children.map(killChild));
    }
  }, 120_000);
});

function message(child: Child, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.proc.on('message', (msg) => msg === text && resolve());
    void child.exited.then((code) => reject(new Error(`child exited with ${code}:\n${child.stderr.join('')}`)));
  });
}
