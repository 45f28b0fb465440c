import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createPostgresBackend, FlowProducer, migratePostgres, Queue, QueueEvents, Worker } from '../../src/index.js';
import { connect } from '../../src/store/connect.js';
import { describeStore } from '../../src/store/describe.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import { queueName, until } from '../support/stores.js';

/** PostgreSQL-only behaviour: choosing the store, schemas and migrations, the shared pool. */
const url = () => inject('postgresUrl');
const open: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(x: T): T => {
  open.push(x);
  return x;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url() });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const schemaName = (label: string) => `${label}_${Math.random().toString(36).slice(2, 10)}`;

describe('choosing the PostgreSQL store', () => {
  it('takes postgres:// and postgresql:// URLs, a pg pool config and a pg.Pool', async () => {
    const asPostgresql = url().replace(/^postgres:/, 'postgresql:');
    const pool = new pg.Pool({ connectionString: url() });
    try {
      for (const connection of [url(), asPostgresql, { connectionString: url() }, pool]) {
        const store = track(connect({ connection }));
        expect(store.kind).toBe('postgres');
        await store.ready();
      }
    } finally {
      await Promise.all(open.splice(0).map((x) => x.close()));
      await pool.end();
    }
  });

  it('takes a pg config by its keys, refuses one mixing pg and ioredis keys, and leaves ioredis options to Redis', () => {
    const pgStore = track(connect({ connection: { host: '127.0.0.1', database: 'x' } }));
    expect(pgStore.kind).toBe('postgres');
    expect(() => connect({ connection: { database: 'x', maxRetriesPerRequest: null } as never })).toThrow(
      /both pg keys and the ioredis key "maxRetriesPerRequest"/,
    );
    expect(describeStore({ host: 'db', port: 5433, database: 'jobs' } as never).text).toBe('PostgreSQL db:5433/jobs');
    expect(describeStore('postgres://u:secret@db/jobs').text).toBe('PostgreSQL postgres://***@db/jobs');
    expect(describeStore({ host: 'cache', port: 6380 }).kind).toBe('redis');
  });

  it('reads the schema from ?schema=, the postgres option or a BullMQ pool config, default docket', () => {
    expect(track(new PostgresStore(url())).schema).toBe('docket');
    expect(track(new PostgresStore(`${url()}?schema=from_url`)).schema).toBe('from_url');
    expect(track(new PostgresStore(url(), { schema: 'from_option' })).schema).toBe('from_option');
    expect(track(new PostgresStore({ connectionString: url(), schema: 'from_config' } as pg.PoolConfig)).schema).toBe(
      'from_config',
    );
  });

  it('shares one pool between every Queue and Worker of the process on one connection', async () => {
    const name = queueName();
    const before = await sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'docket-listener'",
    );
    const queues = Array.from({ length: 20 }, () => track(new Queue(name, { connection: url() })));
    await Promise.all(queues.map((q) => q.add('x', {})));
    const after = await sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'docket-listener'",
    );
    // pg's default pool max (10), plus this check's own connection; other test files share the database.
    expect(after[0].n - before[0].n).toBeLessThanOrEqual(11);
    expect(await queues[0].count()).toBe(20);
  });

  it('runs code written for BullMQ 6.7 with createPostgresBackend as the last argument', async () => {
    const name = queueName();
    const schema = schemaName('bullmq_style');
    const connection = { connectionString: url(), schema };
    const queue = track(new Queue(name, { connection }, createPostgresBackend));
    const events = track(new QueueEvents(name, { connection }, createPostgresBackend));
    const flows = track(new FlowProducer({ connection }, createPostgresBackend));
    const worker = track(new Worker(name, async (job) => job.data.n * 2, { connection }, createPostgresBackend));
    await events.waitUntilReady();
    const job = await queue.add('double', { n: 21 });
    expect(await job.waitUntilFinished(events, 10_000)).toBe(42);
    await flows.add({
      name: 'parent',
      queueName: name,
      data: { n: 1 },
      children: [{ name: 'c', queueName: name, data: { n: 2 } }],
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 3, 10_000, 'the flow to complete');
    expect(worker.isRunning()).toBe(true);
    const tables = await sql('SELECT 1 FROM information_schema.tables WHERE table_schema = $1', [schema]);
    expect(tables.length).toBeGreaterThan(0);
    const backend = createPostgresBackend(name, { connection });
    expect(backend.store.kind).toBe('postgres');
    await backend.store.close();
    expect(() => new Queue(name, { connection: 'redis://127.0.0.1:1' }, createPostgresBackend)).toThrow(
      /postgres:\/\//,
    );
  });
});

describe('PostgreSQL schema and migrations', () => {
  it('migrates once when many processes start at once, then every one uses the schema', async () => {
    const schema = schemaName('race');
    // Distinct pools (one per URL variant), as separate processes would have.
    const stores = Array.from({ length: 6 }, (_, i) =>
      track(new PostgresStore(`${url()}?schema=${schema}&application_name=racer${i}`)),
    );
    await Promise.all(stores.map((s) => s.ready()));
    const version = await sql<{ version: number }>(`SELECT version FROM "${schema}".docket_schema`);
    expect(version).toEqual([{ version: SCHEMA_VERSION }]);
    await Promise.all(stores.map((s, i) => s.addJobs(`bull:q${i}`, [])));
  });

  it('creates its server functions again when a schema holds other ones, and the worker path uses them', async () => {
    const schema = schemaName('fns');
    const before = track(new PostgresStore(url(), { schema }));
    await before.ready();
    const tags = () =>
      sql<{ proname: string; tag: string }>(
        `SELECT p.proname, obj_description(p.oid, 'pg_proc') AS tag FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = $1 AND p.proname IN ('docket_complete', 'docket_take') ORDER BY 1`,
        [schema],
      );
    const current = await tags();
    expect(current.map((f) => f.proname)).toEqual(['docket_complete', 'docket_take']);
    // As another Docket build would leave them: one missing, one with another text.
    await sql(
      `DROP FUNCTION "${schema}".docket_take; COMMENT ON FUNCTION "${schema}".docket_complete IS 'docket other'`,
    );
    const after = track(new PostgresStore(`${url()}?application_name=refreshed`, { schema }));
    await after.ready();
    expect(await tags()).toEqual(current);
    await after.addJobs('bull:f', [
      { name: 'a', data: '{}', opts: '{}', timestamp: Date.now(), delay: 0, priority: 0, lifo: false },
      { name: 'b', data: '{}', opts: '{}', timestamp: Date.now(), delay: 0, priority: 0, lifo: false },
    ]);
    const taken = await after.fetchNext('bull:f', { tokens: ['t1'], lockDuration: 60_000, now: Date.now() });
    const done = await after.complete(
      'bull:f',
      [{ id: taken.jobs[0].id, token: 't1', returnvalue: '"ok"', retention: {} }],
      Date.now(),
      { tokens: ['t2'], lockDuration: 60_000, now: Date.now() },
    );
    expect(done.codes).toEqual([0]);
    expect(done.next?.jobs.map((j) => j.name)).toEqual(['b']);
    expect(await after.getCounts('bull:f', ['completed', 'active'])).toEqual({ completed: 1, active: 1 });
  });

  it('migrates ahead of time with migratePostgres', async () => {
    const schema = schemaName('explicit');
    await migratePostgres(url(), { schema });
    const version = await sql<{ version: number }>(`SELECT version FROM "${schema}".docket_schema`);
    expect(version).toEqual([{ version: SCHEMA_VERSION }]);
  });

  it('upgrades a version 1 schema (before groups) in place, keeping its jobs', async () => {
    const schema = schemaName('v1');
    const before = track(new PostgresStore(url(), { schema }));
    await before.addJobs('bull:old', [
      { name: 'kept', data: '{}', opts: '{}', timestamp: Date.now(), delay: 0, priority: 0, lifo: false },
    ]);
    await sql(
      `DROP TABLE "${schema}".groups; DROP INDEX "${schema}".jobs_by_group; ALTER TABLE "${schema}".jobs DROP COLUMN grp;
       DROP TABLE "${schema}".minute_counts; DROP FUNCTION "${schema}".docket_complete;
       DROP TABLE "${schema}".state_counts; ALTER TABLE "${schema}".queues DROP COLUMN max_events;
       DROP FUNCTION "${schema}".docket_counted_out CASCADE; DROP FUNCTION "${schema}".docket_counted_moved CASCADE;
       UPDATE "${schema}".docket_schema SET version = 1`,
    );
    const after = track(new PostgresStore(`${url()}?application_name=upgraded`, { schema }));
    await after.ready();
    const version = await sql<{ version: number }>(`SELECT version FROM "${schema}".docket_schema`);
    expect(version).toEqual([{ version: SCHEMA_VERSION }]);
    // Version 5's counts, filled from the job already there.
    expect(await after.getCounts('bull:old', ['waiting'])).toEqual({ waiting: 1 });
    // Version 6's event cap.
    await after.meta.writeVersion('bull:old', 'v', 7);
    expect(await after.meta.read('bull:old')).toMatchObject({ maxLenEvents: 7 });
    await after.addJobs('bull:old', [
      {
        name: 'grouped',
        data: '{}',
        opts: '{}',
        timestamp: Date.now(),
        delay: 0,
        priority: 0,
        lifo: false,
        group: { id: 'g' },
      },
    ]);
    expect((await after.getGroup('bull:old', 'g'))?.waiting).toBe(1);
    // Version 3's per-minute counts: a completion (version 4's docket_complete) is recorded.
    const taken = await after.fetchNext('bull:old', { tokens: ['t'], lockDuration: 60_000, now: Date.now() });
    const id = taken.jobs[0].id;
    await after.complete('bull:old', [{ id, token: 't', returnvalue: '1', retention: {} }], Date.now());
    expect((await after.getMinuteCounts('bull:old', 0)).map((m) => m.completed)).toEqual([1]);
    expect(await after.getCounts('bull:old', ['waiting', 'active', 'completed'])).toEqual({
      waiting: 0,
      active: 0,
      completed: 1,
    });
  });

  it('refuses a schema written by a newer Docket, with a message that says what to do', async () => {
    const schema = schemaName('newer');
    await track(new PostgresStore(url(), { schema })).ready();
    await sql(`UPDATE "${schema}".docket_schema SET version = ${SCHEMA_VERSION + 1}`);
    const store = track(new PostgresStore(`${url()}?application_name=later`, { schema }));
    await expect(store.ready()).rejects.toThrow(
      `PostgreSQL schema "${schema}" has Docket schema version ${SCHEMA_VERSION + 1}, newer than this Docket (${SCHEMA_VERSION}): upgrade Docket to use it.`,
    );
  });

  it('refuses a schema holding a jobs table that is not Docket’s', async () => {
    const schema = schemaName('foreign');
    await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".jobs (id int)`);
    const store = track(new PostgresStore(url(), { schema }));
    await expect(store.ready()).rejects.toThrow(/holds a jobs table that is not Docket's/);
  });
});

describe('postgres.synchronousCommit', () => {
  it('false turns synchronous_commit off on the pool Docket opens only, and is refused for a pg.Pool', async () => {
    const show = async (store: PostgresStore) => {
      await store.ready();
      const pool = (store as unknown as { shared: { pool: pg.Pool } }).shared.pool;
      return (await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string;
    };
    expect(await show(track(new PostgresStore(url(), { synchronousCommit: false })))).toBe('off');
    expect(await show(track(new PostgresStore(url())))).toBe('on');
    const name = queueName('async-commit');
    const queue = track(new Queue(name, { connection: url(), postgres: { synchronousCommit: false } }));
    const job = await queue.add('x', { n: 1 });
    expect((await queue.getJob(job.id!))?.data).toEqual({ n: 1 });
    const pool = new pg.Pool({ connectionString: url() });
    try {
      expect(() => new PostgresStore(pool, { synchronousCommit: false })).toThrow(/for your own pg\.Pool set it there/);
    } finally {
      await pool.end();
    }
  });
});
