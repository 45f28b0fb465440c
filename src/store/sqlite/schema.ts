import type Database from 'better-sqlite3';
import { STATE_COUNTS_DDL } from './state-counts.js';

/** Bumped when the tables change; stored in SQLite's `user_version`. */
export const SCHEMA_VERSION = 9;

/**
 * Cancel notices: one row per active job failed by Store.cancelJob, read by watchers in other
 * processes (seq after the last one they saw); rows older than a minute are deleted by the next cancel.
 */
const CANCELS_DDL = `CREATE TABLE IF NOT EXISTS cancels (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  job_id TEXT NOT NULL,
  token TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);`;

/**
 * Groups (issue 22): a grouped job's `grp`; while waiting its lane is negative (priority within the
 * group - GROUP_LANE, transitions.ts), so the queue's own fetch (lane >= 0) never sees it and counts
 * leave it out. `groups`: one row per group that has had jobs or settings; `rr` is its turn (lowest
 * goes next; a group served goes last), `ready` = it may have waiting jobs (set when a job of it
 * becomes waiting, cleared by a fetch that found none). Active jobs per group are counted, not kept.
 */
const GROUPS_DDL = `
CREATE INDEX IF NOT EXISTS jobs_by_group ON jobs (queue, grp, state, lane, sort) WHERE grp IS NOT NULL;
CREATE TABLE IF NOT EXISTS groups (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  rr INTEGER NOT NULL,
  ready INTEGER NOT NULL DEFAULT 0,
  paused INTEGER NOT NULL DEFAULT 0,
  concurrency INTEGER,
  limit_max INTEGER,
  limit_duration INTEGER,
  window_end INTEGER NOT NULL DEFAULT 0,
  window_count INTEGER NOT NULL DEFAULT 0,
  rate_limit_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, id)
);
CREATE INDEX IF NOT EXISTS groups_by_turn ON groups (queue, ready, rr);
`;

/**
 * The light per-minute counts (Store.getMinuteCounts), always recorded: `kind` 'c' completed, 'f'
 * failed for good, 's' stalled; `minute` = floor(ms / 60 000). One UPSERT per transition and kind;
 * minutes older than MINUTE_COUNTS_KEPT go when a new minute's row is made (parity.ts countMinute).
 */
const MINUTE_COUNTS_DDL = `CREATE TABLE IF NOT EXISTS minute_counts (
  queue TEXT NOT NULL,
  minute INTEGER NOT NULL,
  kind TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (queue, minute, kind)
) WITHOUT ROWID;`;

/** The event log (event-log.ts): one b-tree keyed by (queue, id), ids counted per queue. */
const EVENTS_DDL = `CREATE TABLE IF NOT EXISTS events (
  queue TEXT NOT NULL,
  id INTEGER NOT NULL,
  event TEXT NOT NULL,
  fields TEXT NOT NULL,
  PRIMARY KEY (queue, id)
) WITHOUT ROWID;`;

/** `UPGRADES[v - 1]` takes a file from version v to v + 1 (a new file gets the DDL as it is now). */
const UPGRADES: string[] = [
  // 1 → 2: the failure a job carries to its next fetch (a stalled job over maxStalledCount).
  'ALTER TABLE jobs ADD COLUMN deferred_failure TEXT',
  // 2 → 3: durable steps' results (Store.recordStep), a JSON object of step id → result.
  'ALTER TABLE jobs ADD COLUMN steps TEXT',
  // 3 → 4: cancel notices for other processes' workers (Store.cancelJob, sqlite/cancels.ts).
  CANCELS_DDL,
  // 4 → 5: groups (issue 22).
  `ALTER TABLE jobs ADD COLUMN grp TEXT;${GROUPS_DDL}`,
  // 5 → 6: the light per-minute counts of completed / failed / stalled jobs (the dashboard's).
  MINUTE_COUNTS_DDL,
  // 6 → 7: jobs per state kept by triggers (state-counts.ts), filled from the jobs there are.
  STATE_COUNTS_DDL,
  // 7 → 8: the event log keyed by (queue, id), ids per queue (event-log.ts); the ids there are stay.
  `ALTER TABLE events RENAME TO events_before_8;
${EVENTS_DDL}
INSERT INTO events (queue, id, event, fields) SELECT queue, id, event, fields FROM events_before_8;
DROP TABLE events_before_8;
DELETE FROM sqlite_sequence WHERE name = 'events';`,
  // 8 → 9: the event log's cap a Queue recorded (BullMQ's streams.events.maxLen); NULL = the default.
  'ALTER TABLE queues ADD COLUMN max_events INTEGER',
];

const DDL = `
CREATE TABLE IF NOT EXISTS queues (
  queue TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  next_id INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL DEFAULT 0,
  rate_limit_until INTEGER NOT NULL DEFAULT 0,
  limiter_window_end INTEGER NOT NULL DEFAULT 0,
  limiter_count INTEGER NOT NULL DEFAULT 0,
  stalled_check_until INTEGER NOT NULL DEFAULT 0,
  concurrency INTEGER,
  global_max INTEGER,
  global_duration INTEGER,
  metrics_points INTEGER,
  max_events INTEGER
);
-- One row per job. 'prioritized' is state 'waiting' with lane > 0.
-- lane: the priority while waiting, else 0. sort: waiting = sequence (negative for lifo),
-- delayed = due time, active = lock expiry, completed/failed = finishedOn (+ k/1000 for the k-th
-- later finish within one ms: src/store/finish-order.ts), waiting-children = timestamp. The (queue, state, lane, sort) index serves every fetch.
CREATE TABLE IF NOT EXISTS jobs (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  lane INTEGER NOT NULL DEFAULT 0,
  sort INTEGER NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  opts TEXT NOT NULL,
  progress TEXT NOT NULL DEFAULT '0',
  timestamp INTEGER NOT NULL,
  delay INTEGER NOT NULL DEFAULT 0,
  priority INTEGER NOT NULL DEFAULT 0,
  lifo INTEGER NOT NULL DEFAULT 0,
  attempts_made INTEGER NOT NULL DEFAULT 0,
  attempts_started INTEGER NOT NULL DEFAULT 0,
  stalled_counter INTEGER NOT NULL DEFAULT 0,
  processed_on INTEGER,
  finished_on INTEGER,
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
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (queue, state, lane, sort);
${GROUPS_DDL}
${EVENTS_DDL}
CREATE TABLE IF NOT EXISTS logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  job_id TEXT NOT NULL,
  row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_job ON logs (queue, job_id, seq);
-- Parent/child links. child_key = '<child queue>:<child id>' as BullMQ names it.
-- status: pending | processed (value = return value JSON) | failed | ignored (value = reason).
CREATE TABLE IF NOT EXISTS deps (
  parent_queue TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  child_key TEXT NOT NULL,
  status TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (parent_queue, parent_id, child_key)
);
CREATE TABLE IF NOT EXISTS schedulers (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  next INTEGER,
  iteration_count INTEGER NOT NULL DEFAULT 0,
  repeat TEXT NOT NULL,
  template TEXT NOT NULL,
  pending_job_id TEXT,
  PRIMARY KEY (queue, id)
);
-- Deduplication ids: expires_at NULL = until the job finishes. next_job: the job kept aside by keepLastIfActive.
CREATE TABLE IF NOT EXISTS dedup (
  queue TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  expires_at INTEGER,
  next_job TEXT,
  PRIMARY KEY (queue, dedup_id)
);
-- Finished jobs per minute; minute -1 holds the running total.
CREATE TABLE IF NOT EXISTS metrics (
  queue TEXT NOT NULL,
  type TEXT NOT NULL,
  minute INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (queue, type, minute)
);
CREATE TABLE IF NOT EXISTS workers (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  info TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (queue, id)
);
`;

/** Creates the tables on a new file, accepts the current version, refuses others. */
export function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `SQLite file ${file} has Docket schema version ${version}, newer than this Docket (${SCHEMA_VERSION}): upgrade Docket to open it.`,
    );
  }
  if (version === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0 && !db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").get()) {
      throw new Error(`SQLite file ${file} holds tables that are not Docket's; refusing to use it.`);
    }
  }
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    if (now === 0) db.exec(DDL + CANCELS_DDL + MINUTE_COUNTS_DDL + STATE_COUNTS_DDL);
    else for (let v = now; v < SCHEMA_VERSION; v++) db.exec(UPGRADES[v - 1]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
