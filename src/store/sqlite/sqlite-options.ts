import { ValidationError } from '../../errors.js';

/** The `sqlite` option of Queue, Worker, QueueEvents and FlowProducer. */
export interface SqliteOptions {
  /** 'NORMAL' (default: survives a process crash) or 'FULL' (also survives power loss). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * The bound, in bytes, of the write-ahead log (`<file>-wal`) under sustained load; default 64 MiB.
   * Once the WAL passes a quarter of it, a background thread copies it into the database and has the
   * next commit start it over; when writes stop it is truncated to zero. It is also SQLite's
   * `journal_size_limit`. Only a read transaction held open for long (which Docket never does) can
   * keep the WAL from being reset.
   */
  maxWalBytes?: number;
}

/** SqliteOptions with every default filled in. */
export interface SqliteSettings {
  synchronous: 'NORMAL' | 'FULL';
  maxWalBytes: number;
}

export const DEFAULT_MAX_WAL_BYTES = 64 * 2 ** 20;
/** Below this, the restart threshold (a quarter) would be a handful of pages: a checkpoint per commit. */
const MIN_MAX_WAL_BYTES = 2 ** 20;

export function sqliteSettings(opts: SqliteOptions = {}): SqliteSettings {
  const synchronous = opts.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new ValidationError(`sqlite.synchronous must be 'NORMAL' or 'FULL' (got ${String(synchronous)})`);
  }
  const maxWalBytes = opts.maxWalBytes ?? DEFAULT_MAX_WAL_BYTES;
  if (!Number.isSafeInteger(maxWalBytes) || maxWalBytes < MIN_MAX_WAL_BYTES) {
    throw new ValidationError(
      `sqlite.maxWalBytes must be an integer of at least ${MIN_MAX_WAL_BYTES} bytes (1 MiB) (got ${String(maxWalBytes)})`,
    );
  }
  return { synchronous, maxWalBytes };
}
