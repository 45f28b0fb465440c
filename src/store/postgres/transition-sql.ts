import type { QueueRow } from '../sql/rows.js';
import type { FetchRequest } from '../store.js';

/**
 * Statements of transitions.ts sent with the simple query protocol (Conn.simple): tables bare,
 * `:name` markers for values inlined as literals.
 */

/**
 * flushPending's statement for the simple query protocol (Conn.commitAfter), its arrays as JSON
 * literals: the same writes, sent with COMMIT in one round trip.
 */
export const FLUSH_AND_COMMIT = `
WITH counters AS (
  UPDATE queues SET seq = v.seq::bigint, next_id = v.next_id::bigint
  FROM ROWS FROM (json_array_elements_text(:counted::json), json_array_elements_text(:seqs::json),
    json_array_elements_text(:nextIds::json)) AS v(queue, seq, next_id)
  WHERE queues.queue = v.queue
), written AS (
  INSERT INTO events (queue, event, fields)
  SELECT q, e, f FROM ROWS FROM (json_array_elements_text(:queues::json), json_array_elements_text(:names::json),
    json_array_elements_text(:fields::json)) WITH ORDINALITY AS t(q, e, f, n) ORDER BY n
)
SELECT pg_notify(:channel, :sender || ' ' || n) FROM json_array_elements_text(:changed::json) AS n`;

/** Text JSON cannot carry to PostgreSQL (flushPending sends it as parameters instead). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The queue's row and its earliest delayed job in one read (the row nearly always exists). */
export const FETCH_META = `SELECT *, (SELECT sort FROM jobs WHERE queue = :queue AND state = 'delayed' AND lane = 0
  ORDER BY sort LIMIT 1) AS next_delayed, EXISTS (SELECT 1 FROM groups WHERE queue = :queue AND ready = 1) AS has_groups
  FROM queues WHERE queue = :queue`;

/**
 * complete's first read (worker-path.ts): the rows to finish, locked, whether children block each,
 * and the completed list's newest place. `:ids` is a JSON array.
 */
export const COMPLETE_READ = `SELECT rowid, id, state, token, sort, parent, opts, grp,
  (SELECT bool_or(status = 'failed') FROM deps WHERE parent_queue = jobs.queue AND parent_id = jobs.id
     AND status IN ('pending', 'failed')) AS blocked_by_failed,
  (SELECT sort FROM jobs newest WHERE newest.queue = jobs.queue AND newest.state = 'completed' AND newest.lane = 0
     ORDER BY newest.sort DESC LIMIT 1) AS last_place
FROM jobs WHERE queue = :queue AND id = ANY(ARRAY(SELECT json_array_elements_text(:ids::json))) ORDER BY rowid FOR UPDATE OF jobs`;

/**
 * The heartbeats a stalled check writes in its transaction (heartbeats.ts), sent with BEGIN: an idle
 * worker's heartbeat costs no query of its own. `:ids`, `:infos` and `:expires` are JSON arrays.
 */
export const FOLDED_HEARTBEATS = `INSERT INTO workers (queue, id, info, expires_at)
  SELECT :queue, w.id, w.info, w.expires::float8 FROM ROWS FROM (json_array_elements_text(:ids::json),
    json_array_elements_text(:infos::json), json_array_elements_text(:expires::json)) AS w(id, info, expires)
  ON CONFLICT (queue, id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at`;

/**
 * The part of TAKE_AT_COMMIT after its `picked` CTE (functions.ts takeBlock does the same): each
 * picked row paired with a token in order, made active, and its `active` event written.
 */
const TAKE_PICKED = `ranked AS (
  SELECT p.rowid, t.token, t.n FROM (SELECT rowid, row_number() OVER (ORDER BY lane, sort, rowid) AS n FROM picked) p
  JOIN json_array_elements_text(:tokens::json) WITH ORDINALITY AS t(token, n) ON t.n = p.n
), taken AS (
  UPDATE jobs SET state = 'active', lane = 0,
    sort = floor(extract(epoch from clock_timestamp()) * 1000) + :lockDuration::bigint, token = ranked.token,
    processed_on = :now::float8, attempts_started = attempts_started + 1,
    processed_by = coalesce(:processedBy::json ->> 0, processed_by)
  FROM ranked WHERE jobs.rowid = ranked.rowid
  RETURNING ranked.n AS rank, jobs.*
), written AS (
  INSERT INTO events (queue, event, fields)
  SELECT :queue, 'active', json_build_object('jobId', id, 'prev', 'waiting')::text FROM taken ORDER BY rank
)`;

/** The queue's row as FETCH_META reads it. */
export type FetchMeta = QueueRow & { next_delayed: number | null; has_groups: boolean };

/**
 * Whether a fetch is a plain take of the queue's own waiting jobs, judged on the row FETCH_META
 * read (functions.ts readyBlock judges the same on the server): the queue not paused nor rate
 * limited, no global concurrency nor global rate limit, no delayed job due (a fetch promotes those
 * first), no ready group (the grouped fetch goes round them), and neither the worker's own limiter
 * nor a batch. Such a fetch after a completion goes with the commit (WorkerPath.complete).
 */
export function isPlainFetch(meta: FetchMeta, req: FetchRequest): boolean {
  const now = req.now;
  return (
    req.tokens.length > 0 &&
    !req.limiter &&
    !req.batch &&
    !meta.has_groups &&
    meta.paused === 0 &&
    meta.rate_limit_until <= now &&
    meta.concurrency === null &&
    (meta.global_max === null || meta.global_duration === null) &&
    !(meta.next_delayed !== null && meta.next_delayed <= now)
  );
}

/** TAKE_AT_COMMIT's values for `req`. */
export function takeValues(queue: string, req: FetchRequest): Record<string, string> {
  return {
    queue,
    now: String(req.now),
    n: String(req.tokens.length),
    tokens: JSON.stringify(req.tokens),
    lockDuration: String(req.lockDuration),
    processedBy: JSON.stringify([req.processedBy ?? null]),
  };
}

/**
 * complete's UPDATE held back to go with the events and COMMIT (CommitTail.defer in commit-tail.ts) when the batch
 * needs nothing after it (WorkerPath.complete). `:rowids`, `:sorts`, `:returnvalues` are JSON arrays.
 */
export const COMPLETE_DEFERRED = `UPDATE jobs SET state = 'completed', lane = 0, sort = v.sort::float8, finished_on = :now::float8,
  returnvalue = v.returnvalue, token = NULL, attempts_made = attempts_made + 1
  FROM ROWS FROM (json_array_elements_text(:rowids::json), json_array_elements_text(:sorts::json),
    json_array_elements_text(:returnvalues::json)) AS v(rowid, sort, returnvalue)
  WHERE jobs.rowid = v.rowid::bigint`;

/**
 * complete's fetch of the next jobs when it is a plain take (WorkerPath.complete), sent after the
 * events and before COMMIT (CommitTail.takeAtCommit): the jobs taken and their `active` events in
 * one statement. Values: takeValues.
 */
export const TAKE_AT_COMMIT = `WITH picked AS (
  SELECT rowid, lane, sort FROM jobs WHERE queue = :queue AND state = 'waiting' AND lane >= 0
  ORDER BY lane, sort LIMIT :n::int FOR UPDATE SKIP LOCKED
), ${TAKE_PICKED}
SELECT * FROM taken`;

/** After TAKE_AT_COMMIT: `drained` when nothing of the queue waits or runs any more (as fetchAfterMove). */
export const DRAINED_AT_COMMIT = `INSERT INTO events (queue, event, fields) SELECT :queue, 'drained', '{}'
  WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE queue = :queue AND state IN ('waiting', 'active'))`;

/**
 * Adds :n jobs of :kind to the queue's :minute (Store.getMinuteCounts), sent with the commit
 * (CommitTail.defer: nothing in the transaction reads it). The row's first write opens a new
 * minute, and only then are the minutes at or before :oldest deleted.
 */
export const MINUTE_COUNT = `WITH bumped AS (
  INSERT INTO minute_counts (queue, minute, kind, n) VALUES (:queue, :minute::bigint, :kind, :n::bigint)
  ON CONFLICT (queue, minute, kind) DO UPDATE SET n = minute_counts.n + EXCLUDED.n RETURNING n
)
DELETE FROM minute_counts WHERE queue = :queue AND minute <= :oldest::bigint AND (SELECT n FROM bumped) = :n::bigint`;
