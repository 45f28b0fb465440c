/**
 * The number of jobs per queue, state and lane sign, kept by triggers on `jobs` so that
 * `getJobCounts` reads a few rows instead of counting the queue's jobs (a dashboard showing a queue
 * with a million jobs counted them every second: ~250 ms, blocking the process). `sgn` is the sign
 * of `lane`: 1 a prioritized waiting job, -1 a grouped one (counted per group, not here), 0 any
 * other. The triggers see every insert, delete and state change whatever statement makes it, so
 * no transition can forget to count; a row whose count falls to 0 stays.
 */
const SIGN = (lane: string) => `(${lane} > 0) - (${lane} < 0)`;

export const STATE_COUNTS_DDL = `
CREATE TABLE IF NOT EXISTS state_counts (
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  sgn INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (queue, state, sgn)
) WITHOUT ROWID;
INSERT INTO state_counts (queue, state, sgn, n)
  SELECT queue, state, ${SIGN('lane')}, count(*) FROM jobs WHERE true GROUP BY 1, 2, 3
  ON CONFLICT (queue, state, sgn) DO NOTHING;
CREATE TRIGGER IF NOT EXISTS jobs_counted_in AFTER INSERT ON jobs BEGIN
  INSERT INTO state_counts (queue, state, sgn, n) VALUES (new.queue, new.state, ${SIGN('new.lane')}, 1)
    ON CONFLICT (queue, state, sgn) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_counted_out AFTER DELETE ON jobs BEGIN
  UPDATE state_counts SET n = n - 1 WHERE queue = old.queue AND state = old.state AND sgn = ${SIGN('old.lane')};
END;
CREATE TRIGGER IF NOT EXISTS jobs_counted_moved AFTER UPDATE OF state, lane ON jobs
  WHEN old.state IS NOT new.state OR ${SIGN('old.lane')} IS NOT ${SIGN('new.lane')} BEGIN
  INSERT INTO state_counts (queue, state, sgn, n)
    VALUES (old.queue, old.state, ${SIGN('old.lane')}, -1), (new.queue, new.state, ${SIGN('new.lane')}, 1)
    ON CONFLICT (queue, state, sgn) DO UPDATE SET n = n + excluded.n;
END;
`;
