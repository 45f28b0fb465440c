/**
 * Server-side functions of a Docket schema (schema version 4): the worker path's commonest moves as
 * one call each, so that they cost one round trip and run on plans PostgreSQL keeps per connection
 * (a multi-statement text sent with the simple protocol is parsed and planned again every time:
 * ~0.3 ms a completion). Each does exactly what the general path (worker-path.ts, commit-tail.ts,
 * transition-sql.ts) does in that case; when the case is not its own it returns NULL having written
 * nothing, or fails with NOT_ITS_CASE (all it wrote undone), and the caller runs the general path.
 * Rows are read without row locks: every transition of a queue holds the queue's advisory lock
 * (transitions.ts), and each UPDATE repeats the conditions its rows were picked by. Plans are
 * generic (planned once per connection, not at every call: ~0.1 ms a call), so every statement
 * finds its rows by a key whatever the values: (queue, id), rowid = ANY, or jobs_by_state.
 */

/** The SQLSTATE docket_complete fails with when, past its first checks, a job cannot complete its way. */
export const NOT_ITS_CASE = 'DK001';

/**
 * The plain take's conditions (transition-sql.ts isPlainFetch) when `p_take` > 0:
 * the queue's row exists, is neither paused nor rate limited, has no global concurrency nor global
 * rate limit and no ready group; RETURNs NULL otherwise, having written nothing. Then promotes the
 * delayed jobs that are due (`v_promoted`, their `waiting` events) and sets `v_next_delayed`. Runs
 * after every other check that may RETURN NULL.
 */
function readyBlock(s: string): string {
  return `  IF p_take > 0 THEN
    SELECT * INTO v_q FROM ${s}.queues WHERE queue = p_queue;
    IF NOT FOUND OR v_q.paused <> 0 OR v_q.rate_limit_until > p_fetch_now OR v_q.concurrency IS NOT NULL
       OR (v_q.global_max IS NOT NULL AND v_q.global_duration IS NOT NULL)
       OR EXISTS (SELECT 1 FROM ${s}.groups WHERE queue = p_queue AND ready = 1) THEN
      RETURN NULL;
    END IF;
    SELECT sort INTO v_next_delayed FROM ${s}.jobs WHERE queue = p_queue AND state = 'delayed' AND lane = 0
      ORDER BY sort LIMIT 1;
    IF v_next_delayed IS NOT NULL AND v_next_delayed <= p_fetch_now THEN
      -- Due delayed jobs go to waiting first, as the general path's promoteDue (transitions.ts
      -- toWaiting): up to 1 000 in (sort, rowid) order, each taking the queue's next seq. A grouped
      -- one goes to its group's lane: the general path's.
      SELECT array_agg(d.rowid ORDER BY d.sort, d.rowid), bool_or(d.grp IS NOT NULL) INTO v_due, v_due_grouped
      FROM (
        SELECT rowid, sort, grp FROM ${s}.jobs WHERE queue = p_queue AND state = 'delayed' AND lane = 0
          AND sort <= p_fetch_now ORDER BY sort, rowid LIMIT 1000
      ) AS d;
      IF v_due_grouped THEN
        RETURN NULL;
      END IF;
      v_promoted := cardinality(v_due);
      UPDATE ${s}.queues SET seq = seq + v_promoted WHERE queue = p_queue RETURNING seq - v_promoted INTO v_seq;
      WITH promoted AS (
        UPDATE ${s}.jobs SET state = 'waiting', lane = priority, token = NULL, delay = 0,
          sort = CASE WHEN lifo = 1 AND priority = 0 THEN -(v_seq + array_position(v_due, jobs.rowid))
            ELSE v_seq + array_position(v_due, jobs.rowid) END
        WHERE jobs.rowid = ANY(v_due) AND jobs.state = 'delayed'
        RETURNING array_position(v_due, jobs.rowid) AS n, jobs.id
      )
      INSERT INTO ${s}.events (queue, event, fields)
        SELECT p_queue, 'batch', json_agg(json_build_array('waiting', json_build_object('jobId', id, 'prev', 'delayed'))
          ORDER BY n)::text FROM promoted HAVING count(*) > 0;
      SELECT sort INTO v_next_delayed FROM ${s}.jobs WHERE queue = p_queue AND state = 'delayed' AND lane = 0
        ORDER BY sort LIMIT 1;
    END IF;
  END IF;
`;
}

/**
 * The plain take of `p_take` jobs (one per token of `p_take_tokens`), as TAKE_PICKED: sets `v_jobs`
 * (the rows, in order) and `v_taken`. Rows are found by = ANY and array_position, as in docket_complete.
 */
function takeBlock(s: string): string {
  return `  IF p_take > 0 THEN
    SELECT array_agg(p.rowid ORDER BY p.lane, p.sort, p.rowid) INTO v_picked FROM (
      SELECT rowid, lane, sort FROM ${s}.jobs WHERE queue = p_queue AND state = 'waiting' AND lane >= 0
      ORDER BY lane, sort LIMIT p_take
    ) AS p;
    WITH taken AS (
      UPDATE ${s}.jobs SET state = 'active', lane = 0,
        sort = floor(extract(epoch from clock_timestamp()) * 1000) + p_lock_ms,
        token = p_take_tokens[array_position(v_picked, jobs.rowid)],
        processed_on = p_fetch_now, attempts_started = attempts_started + 1,
        processed_by = coalesce(p_processed_by, processed_by)
      WHERE jobs.rowid = ANY(v_picked) AND jobs.state = 'waiting'
      RETURNING array_position(v_picked, jobs.rowid) AS rank, jobs.*
    ), written AS (
      INSERT INTO ${s}.events (queue, event, fields)
      SELECT p_queue, 'batch', json_agg(json_build_array('active', json_build_object('jobId', id, 'prev', 'waiting'))
        ORDER BY rank)::text FROM taken HAVING count(*) > 0
    )
    SELECT json_agg(taken ORDER BY rank), count(*) INTO v_jobs, v_taken FROM taken;
  END IF;
`;
}

/** The variables readyBlock and takeBlock use. */
function takeVariables(s: string): string {
  return `
  v_q ${s}.queues%ROWTYPE;
  v_next_delayed float8;
  v_picked bigint[];
  v_due bigint[];
  v_due_grouped boolean;
  v_seq bigint;
  v_promoted int := 0;
  v_jobs json;
  v_taken int := 0;`;
}

/**
 * `docket_complete`: active → completed for jobs nothing follows up on (no parent, no children
 * left, no group, no deduplication id: the caller leaves out metrics and any retention but
 * removeOnComplete, which `p_remove` does for the whole batch), then, when
 * `p_take` > 0, the plain take of the next jobs. In order, as the general path: the queue's lock,
 * the take's conditions (NULL when they fail), the finished places (finish-order.ts
 * `finishPlace`), the UPDATE that is also the lock check (the call fails with NOT_ITS_CASE unless
 * every job holds its token's live lock), the `completed` events (fields as the caller made them),
 * the minute count, the take with its `active` events, `drained` when nothing waits or runs, the
 * NOTIFY. Returns JSON as text (parsed by the caller, whatever the driver's json parser):
 * `{"jobs": [rows taken, in order], "nextDelayed": earliest delayed job's due time, "events": n}`, n the
 * event rows written (one `batch` row per kind of event: the log's cap and trim count rows).
 */
function completeFunction(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.docket_complete(
  p_queue text, p_lock bigint, p_ids text[], p_tokens text[], p_values text[], p_fields text[], p_remove boolean,
  p_now float8, p_minute bigint, p_oldest bigint, p_take int, p_take_tokens text[], p_fetch_now float8, p_lock_ms bigint,
  p_processed_by text, p_channel text, p_sender text
) RETURNS text LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  v_n int := cardinality(p_ids);
  v_clock float8;
  v_ok int;
  v_last float8;
  v_place float8;
  v_k int;
  v_sorts float8[] := '{}';
  v_count bigint;
${takeVariables(s)}
  v_drained int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
  v_clock := floor(extract(epoch from clock_timestamp()) * 1000);
  -- Children left (pending, or failed under failParentOnFailure): the general path refuses with their code.
  IF EXISTS (SELECT 1 FROM ${s}.deps d WHERE d.parent_queue = p_queue AND d.parent_id = ANY(p_ids)
      AND d.status IN ('pending', 'failed')) THEN
    RETURN NULL;
  END IF;
${readyBlock(s)}  IF p_remove THEN
    -- removeOnComplete: the job goes, with its logs and its finished children's links, as the general
    -- path's completion then retention (retention.ts applyRetention, Transitions.deleteJob); the
    -- DELETE is the lock check, as the UPDATE below.
    WITH gone AS (
      DELETE FROM ${s}.jobs WHERE jobs.queue = p_queue AND jobs.id = ANY(p_ids) AND jobs.state = 'active'
        AND jobs.sort >= v_clock AND jobs.token = p_tokens[array_position(p_ids, jobs.id)]
        AND jobs.parent IS NULL AND jobs.grp IS NULL AND strpos(jobs.opts, '"deduplication"') = 0
      RETURNING 1
    )
    SELECT count(*) INTO v_ok FROM gone;
    IF v_ok <> v_n THEN
      RAISE EXCEPTION 'docket_complete: % of % jobs can complete here', v_ok, v_n USING ERRCODE = '${NOT_ITS_CASE}';
    END IF;
    DELETE FROM ${s}.logs WHERE queue = p_queue AND job_id = ANY(p_ids);
    DELETE FROM ${s}.deps WHERE parent_queue = p_queue AND parent_id = ANY(p_ids);
  ELSE
    SELECT sort INTO v_last FROM ${s}.jobs WHERE queue = p_queue AND state = 'completed' AND lane = 0
      ORDER BY sort DESC LIMIT 1;
    FOR i IN 1..v_n LOOP
      IF v_last IS NULL OR v_last < p_now OR v_last >= p_now + 1 THEN
        v_place := p_now;
      ELSE
        v_k := round((v_last - p_now) * 1000) + 1;
        v_place := CASE WHEN v_k <= 999 THEN p_now + v_k::float8 / 1000 ELSE v_last END;
      END IF;
      v_sorts := v_sorts || v_place;
      v_last := v_place;
    END LOOP;
    -- The UPDATE is the lock check: every job active, held by its token with a live lock, and nothing
    -- to follow up (no parent, group or deduplication id). Its rows are found by (queue, id) = ANY or
    -- among the queue's active jobs (jobs_by_state), as the plan has it: a few either way, as many
    -- as its workers run. One short of all and the call fails whole (NOT_ITS_CASE): nothing it wrote
    -- stays, and the caller runs the general path.
    UPDATE ${s}.jobs SET state = 'completed', lane = 0, sort = v_sorts[array_position(p_ids, jobs.id)],
      finished_on = p_now, returnvalue = p_values[array_position(p_ids, jobs.id)], token = NULL,
      attempts_made = attempts_made + 1
    WHERE jobs.queue = p_queue AND jobs.id = ANY(p_ids) AND jobs.state = 'active' AND jobs.sort >= v_clock
      AND jobs.token = p_tokens[array_position(p_ids, jobs.id)]
      AND jobs.parent IS NULL AND jobs.grp IS NULL AND strpos(jobs.opts, '"deduplication"') = 0;
    GET DIAGNOSTICS v_ok = ROW_COUNT;
    IF v_ok <> v_n THEN
      RAISE EXCEPTION 'docket_complete: % of % jobs can complete here', v_ok, v_n USING ERRCODE = '${NOT_ITS_CASE}';
    END IF;
  END IF;
  INSERT INTO ${s}.events (queue, event, fields)
    SELECT p_queue, 'batch', json_agg(json_build_array('completed', e.f::json) ORDER BY e.k)::text
    FROM unnest(p_fields) WITH ORDINALITY AS e(f, k) HAVING count(*) > 0;
  INSERT INTO ${s}.minute_counts (queue, minute, kind, n) VALUES (p_queue, p_minute, 'c', v_n)
    ON CONFLICT (queue, minute, kind) DO UPDATE SET n = minute_counts.n + EXCLUDED.n
    RETURNING minute_counts.n INTO v_count;
  IF v_count = v_n THEN
    DELETE FROM ${s}.minute_counts WHERE queue = p_queue AND minute <= p_oldest;
  END IF;
${takeBlock(s)}  IF v_taken = 0 THEN -- a job taken is active: not drained
    INSERT INTO ${s}.events (queue, event, fields) SELECT p_queue, 'drained', '{}'
      WHERE NOT EXISTS (SELECT 1 FROM ${s}.jobs WHERE queue = p_queue AND state IN ('waiting', 'active'));
    GET DIAGNOSTICS v_drained = ROW_COUNT;
  END IF;
  PERFORM pg_notify(p_channel, p_sender || ' ' || p_queue);
  RETURN json_build_object('jobs', coalesce(v_jobs, '[]'::json), 'nextDelayed', v_next_delayed,
    'events', sign(v_promoted) + sign(v_n) + sign(v_taken) + v_drained)::text;
END
$fn$;
`;
}

/**
 * `docket_take`: fetchNext when it is a plain take (readyBlock), whole: the queue's lock, the take
 * with its `active` events, and the NOTIFY when it took any. NULL (nothing written) when the fetch
 * is more than that; the caller then fetches the general way (fetching.ts). Returns as docket_complete.
 */
function takeFunction(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.docket_take(
  p_queue text, p_lock bigint, p_take int, p_take_tokens text[], p_fetch_now float8, p_lock_ms bigint,
  p_processed_by text, p_channel text, p_sender text
) RETURNS text LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE${takeVariables(s)}
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
${readyBlock(s)}${takeBlock(s)}  IF v_promoted + v_taken > 0 THEN
    PERFORM pg_notify(p_channel, p_sender || ' ' || p_queue);
  END IF;
  RETURN json_build_object('jobs', coalesce(v_jobs, '[]'::json), 'nextDelayed', v_next_delayed,
    'events', sign(v_promoted) + sign(v_taken))::text;
END
$fn$;
`;
}

/** The functions' names: what `functionsDdl` drops, creates and tags. */
export const FUNCTION_NAMES = ['docket_complete', 'docket_take'];

/**
 * Every function, dropped and created again (a changed return type cannot be replaced), each tagged
 * with `tag` as its comment: schema.ts re-creates them whenever the tag of the running Docket's
 * text differs, so a changed body needs no new schema version.
 */
export function functionsDdl(s: string, tag: string): string {
  const drop = FUNCTION_NAMES.map((name) => `DROP FUNCTION IF EXISTS ${s}.${name};\n`).join('');
  const comment = FUNCTION_NAMES.map((name) => `COMMENT ON FUNCTION ${s}.${name} IS '${tag}';\n`).join('');
  return drop + completeFunction(s) + takeFunction(s) + comment;
}
