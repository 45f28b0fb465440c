import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Checkpoints a WAL database from a worker thread, off the event loop. SQLite's automatic
 * checkpoint runs inside whichever commit crosses the threshold, and its fsync stalled every
 * queue of the process for ~15 ms (the p99 of add → completed went from ~1 ms to ~17 ms; see
 * bench/NOTES.md). The thread holds its own connection and runs a PASSIVE checkpoint (it never
 * blocks readers or writers) every `intervalMs`. Durability is unchanged: commits are what they
 * were, and the checkpoint is the same one SQLite would have run.
 */
export class Checkpointer {
  private readonly thread: Worker;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    file: string,
    intervalMs = 200,
  ) {
    // Eval'd CommonJS, so it runs the same from src/ (tsx, vitest) and dist/; better-sqlite3 is
    // loaded from where this package resolves it.
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.thread = new Worker(THREAD_SOURCE, { eval: true, workerData: { driver, file, intervalMs } });
    this.thread.unref();
    db.pragma('wal_autocheckpoint = 0');
    // Should the thread fail, SQLite checkpoints in the committing connection again.
    const fallBack = () => {
      if (!this.stopped && this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    };
    this.thread.on('error', fallBack);
    this.thread.on('exit', fallBack);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.thread.terminate();
  }
}

const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // Busy or locked: the next round tries again.
  }
}, workerData.intervalMs);
`;
