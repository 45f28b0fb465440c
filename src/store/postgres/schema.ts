import { createHash } from 'node:crypto';
import type pg from 'pg';
import { FUNCTION_NAMES, functionsDdl } from './functions.js';
import { stateCountsDdl } from './state-counts.js';

/** Bumped when the tables change; stored in the schema's `docket_schema` table. */
export const SCHEMA_VERSION = 6;

/** `UPGRADES[v - 1]` takes a schema from version v to v + 1 (a new schema gets the DDL as it is now). */
const UPGRADES: string[] = [
  // 1 → 2: groups (issue 22), as SQLite's schema version 4.
  `ALTER TABLE $schema.jobs ADD COLUMN grp TEXT;${groupsDdl('$schema')}`,
  // 2 → 3: the light per-minute counts (the dashboard's), as SQLite's schema version 6.
  minuteCountsDdl('$schema'),
  // 3 → 4: the worker path's server-side functions (functions.ts), which `migrate` installs.
  '',
  // 4 → 5: jobs per state kept by triggers (state-counts.ts), filled from the jobs there are.
  stateCountsDdl('$schema'),
  // 5 → 6: the event log's cap a Queue recorded (BullMQ's streams.events.maxLen); NULL = the default.
  'ALTER TABLE $schema.queues ADD COLUMN max_events BIGINT',
];

/** The functions' tag: a digest of their text, kept as each one's comment (see `functionsCurrent`). */
const FUNCTIONS_TAG = `docket ${createHash('sha1').update(functionsDdl('$schema', '')).digest('hex').slice(0, 16)}`;

/** Whether the schema holds every function of functions.ts as this Docket wrote it (its tag). */
async function functionsCurrent(client: pg.ClientBase, schema: string): Promise<boolean> {
  const found = await client.query(
    `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace
     WHERE ns.nspname = $1 AND p.proname = ANY($2::text[]) AND obj_description(p.oid, 'pg_proc') = $3`,
    [schema, FUNCTION_NAMES, FUNCTIONS_TAG],
  );
  return Number(found.rows[0].n) === FUNCTION_NAMES.length;
}

/**
 * The light per-minute counts (Store.getMinuteCounts), as SQLite's: `kind` 'c' completed, 'f' failed
 * for good, 's' stalled; written with the transition's commit (transition-sql.ts MINUTE_COUNT).
 */
function minuteCountsDdl(s: string): string {
  return `
CREATE TABLE ${s}.minute_counts (
  queue TEXT NOT NULL,
  minute BIGINT NOT NULL,
  kind TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (queue, minute, kind)
);
`;
}

/**
 * Groups (issue 22), as SQLite's (src/store/sqlite/schema.ts): `jobs.grp`, a negative lane while a
 * grouped job waits, and one `groups` row per group (turn `rr`, `ready`, settings, rate window);
 * `rowid` orders the groups as first seen.
 */
function groupsDdl(s: string): string {
  return `
CREATE INDEX jobs_by_group ON ${s}.jobs (queue, grp, state, lane, sort) WHERE grp IS NOT NULL;
CREATE TABLE ${s}.groups (
  rowid BIGSERIAL,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  rr BIGINT NOT NULL,
  ready INTEGER NOT NULL DEFAULT 0,
  paused INTEGER NOT NULL DEFAULT 0,
  concurrency BIGINT,
  limit_max BIGINT,
  limit_duration BIGINT,
  window_end DOUBLE PRECISION NOT NULL DEFAULT 0,
  window_count BIGINT NOT NULL DEFAULT 0,
  rate_limit_until DOUBLE PRECISION NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, id)
);
CREATE INDEX groups_by_turn ON ${s}.groups (queue, ready, rr);
`;
}

/**
 * The tables, as SQLite's (src/store/sqlite/schema.ts) with PostgreSQL types: `sort` and
 * `timestamp` are doubles (a finished job's sort has a fraction, src/store/finish-order.ts), and
 * rows get a bigserial `rowid` where SQLite has one implicitly. `logs.line` is SQLite's `row`.
 */
function ddl(s: string): string {
  return `
CREATE TABLE ${s}.queues (
  queue TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  next_id BIGINT NOT NULL DEFAULT 0,
  seq BIGINT NOT NULL DEFAULT 0,
  rate_limit_until BIGINT NOT NULL DEFAULT 0,
  limiter_window_end BIGINT NOT NULL DEFAULT 0,
  limiter_count BIGINT NOT NULL DEFAULT 0,
  stalled_check_until BIGINT NOT NULL DEFAULT 0,
  concurrency BIGINT,
  global_max BIGINT,
  global_duration BIGINT,
  metrics_points BIGINT,
  max_events BIGINT
);
CREATE TABLE ${s}.jobs (
  rowid BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  lane BIGINT NOT NULL DEFAULT 0,
  sort DOUBLE PRECISION NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  opts TEXT NOT NULL,
  progress TEXT NOT NULL DEFAULT '0',
  timestamp DOUBLE PRECISION NOT NULL,
  delay DOUBLE PRECISION NOT NULL DEFAULT 0,
  priority BIGINT NOT NULL DEFAULT 0,
  lifo INTEGER NOT NULL DEFAULT 0,
  attempts_made BIGINT NOT NULL DEFAULT 0,
  attempts_started BIGINT NOT NULL DEFAULT 0,
  stalled_counter BIGINT NOT NULL DEFAULT 0,
  processed_on DOUBLE PRECISION,
  finished_on DOUBLE PRECISION,
  returnvalue TEXT,
  failed_reason TEXT,
  stacktrace TEXT,
  processed_by TEXT,
  parent TEXT,
  token TEXT,
  deferred_failure TEXT,
  steps TEXT,
  grp TEXT,
  UNIQUE (queue, id)
);
CREATE INDEX jobs_by_state ON ${s}.jobs (queue, state, lane, sort);
${groupsDdl(s)}
CREATE TABLE ${s}.events (
  id BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  event TEXT NOT NULL,
  fields TEXT NOT NULL
);
CREATE INDEX events_by_queue ON ${s}.events (queue, id);
CREATE TABLE ${s}.logs (
  seq BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  job_id TEXT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX logs_by_job ON ${s}.logs (queue, job_id, seq);
CREATE TABLE ${s}.deps (
  rowid BIGSERIAL,
  parent_queue TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  child_key TEXT NOT NULL,
  status TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (parent_queue, parent_id, child_key)
);
CREATE TABLE ${s}.schedulers (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  next BIGINT,
  iteration_count BIGINT NOT NULL DEFAULT 0,
  repeat TEXT NOT NULL,
  template TEXT NOT NULL,
  pending_job_id TEXT,
  PRIMARY KEY (queue, id)
);
CREATE TABLE ${s}.dedup (
  queue TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  expires_at DOUBLE PRECISION,
  next_job TEXT,
  PRIMARY KEY (queue, dedup_id)
);
CREATE TABLE ${s}.metrics (
  queue TEXT NOT NULL,
  type TEXT NOT NULL,
  minute BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (queue, type, minute)
);
${minuteCountsDdl(s)}
${stateCountsDdl(s)}
CREATE TABLE ${s}.workers (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  info TEXT NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (queue, id)
);
`;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function storedVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const exists = await client.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'docket_schema'",
    [schema],
  );
  if (exists.rowCount === 0) return 0;
  const row = await client.query(`SELECT version FROM ${quoteIdent(schema)}.docket_schema`);
  return Number(row.rows[0]?.version ?? 0);
}

function refuseNewer(version: number, schema: string): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `PostgreSQL schema "${schema}" has Docket schema version ${version}, newer than this Docket (${SCHEMA_VERSION}): upgrade Docket to use it.`,
    );
  }
}

/**
 * Creates the schema's tables or upgrades them, and refuses a schema written by a newer Docket or
 * holding tables that are not Docket's. Many processes may start at once: the work runs under a
 * transaction-scoped advisory lock on the schema's name, and the version is read again under it,
 * so the first migrates and the others find it done. DDL is transactional in PostgreSQL: a failed
 * migration leaves nothing behind. The server-side functions (functions.ts) are created again
 * whenever their tag differs from this Docket's, so that processes of one Docket version agree on
 * them (two Docket versions sharing a schema would take turns replacing them).
 */
export async function migrate(client: pg.ClientBase, schema: string): Promise<void> {
  const seen = await storedVersion(client, schema);
  refuseNewer(seen, schema);
  if (seen === SCHEMA_VERSION && (await functionsCurrent(client, schema))) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`docket-migrate:${schema}`]);
    const version = await storedVersion(client, schema);
    refuseNewer(version, schema);
    const s = quoteIdent(schema);
    if (version === 0) {
      const tables = await client.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'jobs'",
        [schema],
      );
      if ((tables.rowCount ?? 0) > 0) {
        throw new Error(`PostgreSQL schema "${schema}" holds a jobs table that is not Docket's; refusing to use it.`);
      }
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(ddl(s));
      await client.query(`CREATE TABLE ${s}.docket_schema (version INTEGER NOT NULL)`);
      await client.query(`INSERT INTO ${s}.docket_schema (version) VALUES ($1)`, [SCHEMA_VERSION]);
    } else if (version < SCHEMA_VERSION) {
      for (let v = version; v < SCHEMA_VERSION; v++) {
        if (UPGRADES[v - 1]) await client.query(UPGRADES[v - 1].replaceAll('$schema', s));
      }
      await client.query(`UPDATE ${s}.docket_schema SET version = $1`, [SCHEMA_VERSION]);
    }
    // Installed or changed functions (another process may have just done it: checked under the lock).
    if (!(await functionsCurrent(client, schema))) await client.query(functionsDdl(s, FUNCTIONS_TAG));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
