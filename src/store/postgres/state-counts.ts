/**
 * The number of jobs per queue, state and lane sign, as SQLite's (src/store/sqlite/state-counts.ts):
 * `getJobCounts` reads a few rows instead of counting the queue's jobs (a million jobs: ~200-400 ms a
 * count). Moves and deletes are counted by statement triggers over transition tables (one aggregate
 * per statement, however many rows it moved: a completion batch is one UPDATE). Inserts are counted
 * by the three statements that insert jobs (adding-fast.ts, adding-flow.ts, Transitions.insert), in
 * the same statement (COUNT_INSERTED): a trigger's call cost a one-job add ~10 % of its time.
 * Every transition that moves jobs of a queue holds the queue's advisory lock (transitions.ts), so
 * its count rows are updated by one transaction at a time.
 */

/** Adds the rows of CTE `inserted` (RETURNING queue, state, lane) to the counts: the end of an INSERT's statement. */
export const COUNT_INSERTED = `INSERT INTO state_counts AS c (queue, state, sgn, n)
  SELECT queue, state, sign(lane)::int, count(*) FROM inserted GROUP BY 1, 2, 3
  ON CONFLICT (queue, state, sgn) DO UPDATE SET n = c.n + excluded.n`;

export function stateCountsDdl(s: string): string {
  return `
CREATE TABLE ${s}.state_counts (
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  sgn INT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (queue, state, sgn)
);
INSERT INTO ${s}.state_counts (queue, state, sgn, n)
  SELECT queue, state, sign(lane)::int, count(*) FROM ${s}.jobs GROUP BY 1, 2, 3;
CREATE FUNCTION ${s}.docket_counted_out() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${s}.state_counts AS c (queue, state, sgn, n)
    SELECT queue, state, sign(lane)::int, -count(*) FROM removed GROUP BY 1, 2, 3
    ON CONFLICT (queue, state, sgn) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$fn$;
-- An UPDATE that moves no job between counts (a lock renewal, progress, data) writes nothing.
CREATE FUNCTION ${s}.docket_counted_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${s}.state_counts AS c (queue, state, sgn, n)
    SELECT queue, state, sgn, sum(d) FROM (
      SELECT queue, state, sign(lane)::int AS sgn, 1 AS d FROM moved_to
      UNION ALL SELECT queue, state, sign(lane)::int, -1 FROM moved_from
    ) AS m GROUP BY 1, 2, 3 HAVING sum(d) <> 0
    ON CONFLICT (queue, state, sgn) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER jobs_counted_out AFTER DELETE ON ${s}.jobs REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.docket_counted_out();
CREATE TRIGGER jobs_counted_moved AFTER UPDATE ON ${s}.jobs REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.docket_counted_moved();
`;
}
