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
export const COMPLETE_READ = `SELECT rowid, id, state, token, sort, parent, opts,
  (SELECT bool_or(status = 'failed') FROM deps WHERE parent_queue = jobs.queue AND parent_id = jobs.id
     AND status IN ('pending', 'failed')) AS blocked_by_failed,
  (SELECT sort FROM jobs newest WHERE newest.queue = jobs.queue AND newest.state = 'completed' AND newest.lane = 0
     ORDER BY newest.sort DESC LIMIT 1) AS last_place
FROM jobs WHERE queue = :queue AND id = ANY(ARRAY(SELECT json_array_elements_text(:ids::json))) ORDER BY rowid FOR UPDATE OF jobs`;
