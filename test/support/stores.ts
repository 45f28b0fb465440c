import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface StoreFixture {
  kind: 'sqlite' | 'redis' | 'postgres';
  /** A fresh `connection` value: a new SQLite file per call, or the run's redis-server or PostgreSQL database. */
  connection(): string;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'docket-test-'));

/** Every store a behaviour test runs on: `describe.each(stores)('… on %s', …)`. */
export const stores: StoreFixture[] = [
  { kind: 'sqlite', connection: () => `sqlite:${join(sqliteDir, `${randomUUID()}.db`)}` },
  { kind: 'redis', connection: () => inject('redisUrl') },
  { kind: 'postgres', connection: () => inject('postgresUrl') },
];

/**
 * The same store on a Redis database (or PostgreSQL schema) of its own (`db` 1–15; SQLite files are fresh anyway): for tests
 * that list every queue of the store (CLI, dashboard), which the run's other test files fill with
 * thousands of queues, too many to list and count in a test's time on a loaded machine.
 */
export function isolated(store: StoreFixture, db: number): StoreFixture {
  if (store.kind === 'postgres')
    return { kind: store.kind, connection: () => `${store.connection()}?schema=isolated_${db}` };
  if (store.kind !== 'redis') return store;
  return { kind: store.kind, connection: () => `${store.connection().replace(/\/\d+$/, '')}/${db}` };
}

/** A queue name no other test uses. */
export function queueName(label = 'q'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** Polls `check` until it returns a truthy value, failing after `timeoutMs`. */
export async function until<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
