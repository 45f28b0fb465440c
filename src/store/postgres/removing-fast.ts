import { queueLockKey } from './conn.js';
import type { SharedPool } from './database.js';
import { schedulerOfJob } from './schedulers.js';

/**
 * Removes plain jobs: no parent, no deduplication id, and with `removeChildren` no children (a
 * scheduler's iteration is never sent here). `:items` is JSON, `[[id, keepChildren], …]` in call
 * order, ids distinct. A job missing, not plain, or locked by a worker is left alone: the caller
 * then runs the general path for it (parity.ts), which decides. Each other job goes with its logs
 * and children links, and gets its `removed` event, in call order, and the queue its NOTIFY.
 * Returns the 1-based places of the removed ones. Its snapshot is taken when it starts, after the
 * queue's lock (READ COMMITTED): as every transition of the queue holds that lock until it
 * commits, the statement sees them all.
 */
const REMOVE_PLAIN = `
WITH want AS MATERIALIZED (
  SELECT e.v->>0 AS id, (e.v->>1)::boolean AS keep, e.n FROM json_array_elements(:items::json) WITH ORDINALITY AS e(v, n)
),
gone AS (
  DELETE FROM jobs j WHERE j.queue = :queue AND j.id = ANY (ARRAY(SELECT id FROM want)) AND j.parent IS NULL
    AND position('"deduplication"' in j.opts) = 0
    AND NOT (j.state = 'active' AND j.token IS NOT NULL AND j.sort >= floor(extract(epoch from clock_timestamp()) * 1000))
    AND (j.id = ANY (ARRAY(SELECT id FROM want WHERE keep))
      OR NOT EXISTS (SELECT 1 FROM deps d WHERE d.parent_queue = :queue AND d.parent_id = j.id))
  RETURNING j.id, CASE WHEN j.state = 'waiting' AND j.lane > 0 THEN 'prioritized' ELSE j.state END AS prev
),
placed AS (SELECT g.id, g.prev, w.n FROM gone g JOIN want w ON w.id = g.id),
job_logs AS (DELETE FROM logs l USING gone g WHERE l.queue = :queue AND l.job_id = g.id),
links AS (DELETE FROM deps d USING gone g WHERE d.parent_queue = :queue AND d.parent_id = g.id),
written AS (
  INSERT INTO events (queue, event, fields)
  SELECT :queue, 'removed', json_build_object('jobId', id, 'prev', prev)::text FROM placed ORDER BY n
)
SELECT n, pg_notify(:channel, :notice) FROM placed`;

/** Removes in one batch at most. */
const MAX_BATCH = 1000;

interface Pending {
  id: string;
  removeChildren: boolean;
  /** The general path, run for this remove when the batch could not do it. */
  general(): Promise<number>;
  resolve(code: number): void;
  reject(err: unknown): void;
}

interface Batch {
  items: Pending[];
  /** shared.lastCall once the batch was chained: it takes more removes while that is still the last call. */
  at: number;
  started: boolean;
}

/**
 * Job.remove of plain jobs, batched: removes called one after the other (a `Promise.all` over
 * thousands of jobs) while nothing else was called on the queue share one round trip and one
 * commit, where each alone costs a commit (a WAL flush, milliseconds on a busy disk). The batch is
 * one simple query, which PostgreSQL runs as one implicit transaction: the queue's lock first
 * (transitions.ts), then REMOVE_PLAIN. Then, still in the batch's
 * place in the queue's call order, each remove it could not do runs the general path, in order.
 */
export class PlainRemoves {
  private readonly open = new Map<string, Batch>();

  constructor(
    private readonly shared: SharedPool,
    private readonly log: { channel: string; sender: string; sinceTrim: number },
  ) {}

  remove(queue: string, id: string, removeChildren: boolean, general: () => Promise<number>): Promise<number> {
    if (schedulerOfJob(id)) return this.shared.serial(queue, general);
    return new Promise<number>((resolve, reject) => {
      const item = { id, removeChildren, general, resolve, reject };
      const open = this.open.get(queue);
      if (open && !open.started && open.at === this.shared.lastCall(queue) && open.items.length < MAX_BATCH) {
        open.items.push(item);
        return;
      }
      const batch: Batch = { items: [item], at: 0, started: false };
      void this.shared.serial(queue, () => this.run(queue, batch));
      batch.at = this.shared.lastCall(queue);
      this.open.set(queue, batch);
    });
  }

  private async run(queue: string, batch: Batch): Promise<void> {
    batch.started = true;
    if (this.open.get(queue) === batch) this.open.delete(queue);
    const { items } = batch;
    let done: boolean[];
    try {
      done = await this.send(queue, items);
    } catch (err) {
      for (const p of items) p.reject(err);
      return;
    }
    for (const [i, p] of items.entries()) {
      if (done[i]) p.resolve(1);
      else await p.general().then(p.resolve, p.reject);
    }
  }

  private async send(queue: string, items: Pending[]): Promise<boolean[]> {
    // A job named twice: its later removes find it gone, on the general path.
    const first = new Map<string, number>();
    for (const [i, p] of items.entries()) if (!first.has(p.id)) first.set(p.id, i);
    const sent = [...first.values()];
    const results = await this.shared.statement((db) =>
      db.simple([
        { sql: 'SELECT pg_advisory_xact_lock(:key::bigint)', values: { key: queueLockKey(db.schema, queue) } },
        {
          sql: REMOVE_PLAIN,
          values: {
            items: JSON.stringify(sent.map((i) => [items[i].id, !items[i].removeChildren])),
            queue,
            channel: this.log.channel,
            notice: `${this.log.sender} ${queue}`,
          },
        },
      ]),
    );
    const done = items.map(() => false);
    for (const row of results[1]?.rows ?? []) done[sent[Number((row as { n: number }).n) - 1]] = true;
    const removed = results[1]?.rowCount ?? 0;
    if (removed > 0) {
      this.log.sinceTrim += removed; // trimmed by the next transition that writes events (transitions.ts)
      this.shared.listener.notify(queue);
    }
    return done;
  }
}
