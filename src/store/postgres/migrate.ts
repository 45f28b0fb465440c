import type { PgConnection, PostgresOptions } from './postgres-options.js';
import { PostgresStore } from './postgres-store.js';

/**
 * Creates or upgrades Docket's tables in `schema` now (a deploy step), instead of at the first use
 * by a Queue or Worker; refuses a schema written by a newer Docket. Safe to run from many
 * processes at once.
 */
export async function migratePostgres(connection: PgConnection, opts: PostgresOptions = {}): Promise<void> {
  const store = new PostgresStore(connection, opts);
  try {
    await store.ready();
  } finally {
    await store.close();
  }
}
