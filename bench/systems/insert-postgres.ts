import pg from 'pg';
import type { Adapter, AdapterConfig } from '../types.js';
import { needPg } from './options.js';

/**
 * The floor of a durable one-job add on PostgreSQL, not a queue: each `add` is one one-row `INSERT`
 * in autocommit through the same `pg` driver (a pool of one; the commit waits for the WAL flush as
 * every system's does). What no queue on this server and driver can beat, for the add rows only.
 */
export function insertPostgresAdapter(cfg: AdapterConfig): Adapter {
  const pool = new pg.Pool({ connectionString: needPg(cfg), max: 1 });
  const none = (what: string) => () => Promise.reject(new Error(`insert-postgres is only an add floor: no ${what}`));
  return {
    async ready() {
      await pool.query('CREATE TABLE IF NOT EXISTS floor_jobs (id BIGSERIAL PRIMARY KEY, name TEXT, data TEXT)');
    },
    async add(j) {
      // Prepared once (named), as Docket's statements are: no parse or plan per add.
      await pool.query({
        name: 'floor_add',
        text: 'INSERT INTO floor_jobs (name, data) VALUES ($1, $2)',
        values: [j.name, JSON.stringify(j.data)],
      });
    },
    async addBulk(jobs) {
      await pool.query('INSERT INTO floor_jobs (name, data) SELECT * FROM unnest($1::text[], $2::text[])', [
        jobs.map((j) => j.name),
        jobs.map((j) => JSON.stringify(j.data)),
      ]);
    },
    startWorker: none('worker'),
    stopWorker: async () => undefined,
    close: () => pool.end(),
  };
}
