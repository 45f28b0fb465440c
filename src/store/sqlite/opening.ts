import type Database from 'better-sqlite3';
import { migrate } from './schema.js';
import type { SqliteSettings } from './sqlite-options.js';

/**
 * How long a statement on the main connection waits for a lock before SQLITE_BUSY: short, since it
 * blocks the event loop; a busy write or read is retried asynchronously instead (`database.ts`).
 */
export const BUSY_TIMEOUT_MS = 5;

/**
 * Sets a new connection up: WAL mode, durability, the WAL's size limit, the schema. Every step may
 * meet a file that another process is switching to WAL or migrating at that moment (SQLITE_BUSY):
 * the caller retries the whole, which is safe as each step is idempotent.
 */
export function configure(db: Database.Database, file: string, settings: SqliteSettings): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${settings.synchronous}`);
  // Truncates the WAL to this size when a commit starts it over (the checkpointer keeps it under).
  db.pragma(`journal_size_limit = ${settings.maxWalBytes}`);
  migrate(db, file);
}

/** SQLITE_BUSY and its kin: another connection holds the lock, or is recovering or converting the file. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_PROTOCOL')
  );
}

/** Milliseconds before retry `attempt` (1, 2, …) of a busy call: short at first, up to ~50 ms, jittered. */
export function busyBackoff(attempt: number): number {
  return 2 + Math.random() * Math.min(50, attempt * 2);
}

/** Busy retries before the error reaches the caller (with `busyBackoff`, well over a minute). */
export const MAX_BUSY_ATTEMPTS = 2000;
