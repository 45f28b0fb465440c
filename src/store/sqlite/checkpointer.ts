import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Checkpoints a WAL database from a worker thread, off the event loop, and keeps the WAL bounded.
 *
 * SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, and its fsync
 * stalled every queue of the process for ~15 ms (the p99 of add → completed went from ~1 ms to
 * ~17 ms; see bench/NOTES.md). The thread holds its own connection and, every `passiveMs`, runs a
 * PASSIVE checkpoint, which never waits for readers or writers.
 *
 * PASSIVE alone let the WAL grow without bound under sustained load (2.45 GB in the 1 M-job run of
 * bench/RESULTS.md): SQLite starts the WAL over only when a commit finds every frame copied and no
 * reader in it, which a queue written to without a pause never offers. So when the WAL file passes
 * `truncateAtBytes` the thread runs a TRUNCATE checkpoint: with the write lock it copies what is left
 * and empties the file, so the next commit starts the WAL over. (RESTART would reuse the file in
 * place, and its size would no longer tell how much of it is in use.) Taking the write lock from
 * busy writers failed: they took it back between the busy handler's sleeps, and the WAL overshot a
 * 1 MB threshold by 5–14 MB. So while the checkpoint is wanted, the thread raises a flag
 * (`writesPaused`) that this process's writers wait on, asynchronously, before they begin; the
 * thread of every other process sees the same file size and does the same. The pause lasts one
 * checkpoint (~10–60 ms). When a reader holds an old snapshot (which Docket never does), no
 * checkpoint can empty the WAL: after `gateMaxMs` (1 s) writes go on unpaused for 1 s, then 2 s, 4 s…
 * up to a minute between attempts (`pinned`). Any other failure (other processes' writers, a slow
 * disk) keeps writers paused, for up to `gateGiveUpMs`.
 *
 * A thread starved of CPU looks at the file too late: with two test suites on two cores the WAL
 * passed a 4 MiB bound by 7 MB between two of its rounds. So writers look as well (a `stat` at most
 * every `writerCheckMs`): past half the bound, they raise the flag themselves and wait, which also
 * hands the CPU to the thread.
 *
 * When nothing was written for a round and everything is copied, a TRUNCATE also gives the file's
 * space back. SQLite lets one checkpoint run at a time: the other processes' threads get "busy" at
 * once and look again in 2 ms.
 */
export class Checkpointer {
  private readonly thread: Worker;
  private readonly exited: Promise<void>;
  /**
   * [0] = 1 while writers should hold back for a checkpoint (raised by the thread, or by a writer that
   * found the WAL past `holdAtBytes`); [1] = 1 while a reader pins the WAL and writers must not wait.
   */
  private readonly gate = new Int32Array(new SharedArrayBuffer(8));
  private stopped = false;
  private running = true;
  private readonly walFile: string;
  private readonly holdAtBytes: number;
  private lastLookAt = 0;

  constructor(
    private readonly db: Database.Database,
    file: string,
    truncateAtBytes: number,
    passiveMs = 200,
    /** Tests stand in for a thread starved of CPU with a slower `sizeCheckMs`. */
    timing: Partial<typeof TIMING> = {},
  ) {
    this.walFile = `${file}-wal`;
    this.holdAtBytes = truncateAtBytes * 2;
    // Eval'd CommonJS, so it runs the same from src/ (tsx, vitest) and dist/; better-sqlite3 is
    // loaded from where this package resolves it.
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.thread = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { driver, file, passiveMs, truncateAtBytes, gate: this.gate, ...TIMING, ...timing },
    });
    this.thread.unref();
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    db.pragma('wal_autocheckpoint = 0');
    // Should the thread fail, SQLite checkpoints in the committing connection again.
    const fallBack = () => {
      this.running = false;
      Atomics.store(this.gate, 0, 0);
      if (!this.stopped && this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    };
    this.thread.on('error', fallBack);
    this.thread.on('exit', fallBack);
  }

  /** True while writers should wait (`writesResumed`) before they begin a transaction. */
  get writesPaused(): boolean {
    if (Atomics.load(this.gate, 0) === 1) return true;
    const now = Date.now();
    if (now - this.lastLookAt < TIMING.writerCheckMs || !this.running) return false;
    this.lastLookAt = now;
    if (Atomics.load(this.gate, 1) === 1 || walBytes(this.walFile) < this.holdAtBytes) return false;
    Atomics.store(this.gate, 0, 1); // the thread is late: it sees the flag and checkpoints at its next round
    return true;
  }

  /** Resolves when the thread lowers the flag (at most `gateGiveUpMs` after it was raised). */
  async writesResumed(): Promise<void> {
    while (Atomics.load(this.gate, 0) === 1 && this.running) await sleep(1);
  }

  /**
   * Resolves once the thread closed its connection and ended. Closed after the main connection, the
   * thread's is the last of the process: SQLite's final checkpoint and the removal of the `-wal` and
   * `-shm` files (when no other process has the file open) happen in the thread, not on the event loop.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.thread.ref(); // the process waits for it now (it was unref'd not to hold the process open)
    this.thread.postMessage('close');
    await this.exited;
  }
}

function walBytes(walFile: string): number {
  try {
    return statSync(walFile).size;
  } catch {
    return 0;
  }
}

const TIMING = {
  /** How often the thread looks at the WAL's size (a `stat`)… */
  sizeCheckMs: 20,
  /** …and how often, at most, a writer does. */
  writerCheckMs: 2,
  /** How long a TRUNCATE checkpoint waits for the write lock and for readers before it gives up. */
  busyTimeoutMs: 250,
  /** The longest writers are held back for one checkpoint while a reader pins the WAL… */
  gateMaxMs: 1000,
  /** …or for any other reason… */
  gateGiveUpMs: 10_000,
  /** …after which they are not held back again for this long, doubled after each such failure… */
  gateBackoffMs: 1000,
  /** …up to this. */
  gateBackoffMaxMs: 60_000,
};

const THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const { file, passiveMs, truncateAtBytes, gate, sizeCheckMs, busyTimeoutMs, gateMaxMs, gateGiveUpMs, gateBackoffMs, gateBackoffMaxMs } =
  workerData;
const db = new Database(file, { timeout: busyTimeoutMs });
const walBytes = () => {
  try {
    return statSync(file + '-wal').size;
  } catch {
    return 0;
  }
};
const checkpoint = (mode) => {
  try {
    return db.pragma('wal_checkpoint(' + mode + ')')[0];
  } catch {
    return undefined; // busy or locked: the next round tries again
  }
};
let gateSince = 0;
let gateAgainAt = 0;
let backoff = gateBackoffMs;
const openGate = () => {
  gateSince = 0;
  Atomics.store(gate, 0, 0);
};
let nextPassiveAt = 0;
let lastFrames = -1;
let timer;
const round = () => {
  const now = Date.now();
  const bytes = walBytes();
  const pinned = now < gateAgainAt;
  Atomics.store(gate, 1, pinned ? 1 : 0);
  if (pinned) Atomics.store(gate, 0, 0); // a writer raised it meanwhile: the checkpoint cannot be made yet
  if (bytes >= truncateAtBytes && !pinned) {
    if (!gateSince) {
      gateSince = now;
      Atomics.store(gate, 0, 1);
    }
    const r = checkpoint('TRUNCATE');
    const waited = Date.now() - gateSince;
    if (walBytes() < truncateAtBytes) {
      openGate(); // emptied, here or by another process
      backoff = gateBackoffMs;
      lastFrames = -1;
    } else if ((r && r.log > r.checkpointed && waited >= gateMaxMs) || waited >= gateGiveUpMs) {
      // Frames left uncopied: a reader's snapshot still needs them (or the checkpoint never succeeded).
      Atomics.store(gate, 1, 1);
      openGate();
      gateAgainAt = Date.now() + backoff;
      backoff = Math.min(backoff * 2, gateBackoffMaxMs);
    } else {
      timer = setTimeout(round, 2); // another process's checkpoint runs, or a reader is finishing
      return;
    }
  } else if (gateSince || Atomics.load(gate, 0) === 1) {
    openGate(); // another process emptied it (or a writer raised the flag as this round found it emptied)
  } else if (now >= nextPassiveAt) {
    nextPassiveAt = now + passiveMs;
    const r = checkpoint('PASSIVE');
    // Nothing committed since the last round and every frame copied: the load stopped.
    if (r && bytes > 0 && r.busy === 0 && r.log === r.checkpointed && r.log === lastFrames) {
      checkpoint('TRUNCATE');
      lastFrames = -1;
    } else if (r) {
      lastFrames = r.log;
    }
  }
  timer = setTimeout(round, sizeCheckMs);
};
timer = setTimeout(round, sizeCheckMs);
parentPort.on('message', (msg) => {
  if (msg !== 'close') return;
  clearTimeout(timer);
  openGate();
  try {
    db.close();
  } finally {
    parentPort.close();
  }
});
`;
