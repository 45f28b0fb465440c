import { stateOf } from '../sql/rows.js';
import { everyNextMillis } from '../sqlite/schedulers.js';
import type { NewJob, SchedulerIteration, SchedulerRecord, SchedulerUpsertResult } from '../store.js';
import type { Conn } from './conn.js';
import type { Transitions } from './transitions.js';

/** The `schedulers` row (see src/store/sqlite/schedulers.ts). */
interface SchedulerRow {
  id: string;
  next: number | null;
  iteration_count: number;
  repeat: string;
  template: string;
}

interface StoredTemplate {
  name: string;
  data: string;
  opts: string;
  offset?: number;
}

const jobIdOf = (id: string, millis: number) => `repeat:${id}:${millis}`;

/** The queue's schedulers' current iteration ids, as SQL taking the queue as its one parameter. */
export const CURRENT_ITERATIONS =
  "SELECT 'repeat:' || s.id || ':' || s.next FROM schedulers s WHERE s.queue = ? AND s.next IS NOT NULL";

/** The scheduler id and millis of a scheduler-made job id (`repeat:<id>:<millis>`). */
export function schedulerOfJob(jobId: string): { id: string; millis: number } | undefined {
  if (!jobId.startsWith('repeat:')) return undefined;
  const at = jobId.lastIndexOf(':');
  if (at <= 7) return undefined;
  return { id: jobId.slice(7, at), millis: Number(jobId.slice(at + 1)) };
}

/** True when `jobId` is the current iteration of one of the queue's schedulers (BullMQ's isJobSchedulerJob). */
export async function isCurrentIteration(db: Conn, queue: string, jobId: string): Promise<boolean> {
  const job = schedulerOfJob(jobId);
  if (!job) return false;
  const row = (await db.stmt('SELECT next FROM schedulers WHERE queue = ? AND id = ?').get(queue, job.id)) as
    | { next: number | null }
    | undefined;
  return row?.next === job.millis;
}

const everyOf = (repeat: string) => (JSON.parse(repeat) as { every?: number }).every;

/** Job schedulers (mirrors src/store/sqlite/schedulers.ts). Runs inside the caller's transaction. */
export class Schedulers {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  private async row(queue: string, id: string): Promise<SchedulerRow | undefined> {
    return (await this.db
      .stmt('SELECT id, next, iteration_count, repeat, template FROM schedulers WHERE queue = ? AND id = ?')
      .get(queue, id)) as SchedulerRow | undefined;
  }

  /**
   * True when job `jobId` exists and has not started (delayed, prioritized or waiting), so that an
   * upsert may replace it. As in BullMQ, a waiting one of a paused queue is left alone (BullMQ looks
   * for it in its paused list, which v6 no longer fills).
   */
  private async unstarted(queue: string, jobId: string): Promise<boolean> {
    const row = await this.t.row(queue, jobId);
    if (!row) return false;
    const state = stateOf(row);
    return (
      state === 'delayed' || state === 'prioritized' || (state === 'waiting' && (await this.t.meta(queue)).paused !== 1)
    );
  }

  private async removeJob(queue: string, jobId: string): Promise<void> {
    const row = await this.t.row(queue, jobId);
    if (!row) return;
    await this.t.deleteJob(queue, row.id, row.rowid);
    this.t.emit(queue, 'removed', { jobId: row.id, prev: stateOf(row) });
  }

  /** Adds iteration `millis`: the job due then, `delay` and `prevMillis` appended to its options. */
  private async addIteration(queue: string, id: string, job: NewJob, millis: number, now: number): Promise<string> {
    const jobId = jobIdOf(id, millis);
    const delay = Math.max(0, millis - now);
    const tail = `"delay":${delay},"prevMillis":${millis}}`;
    const opts = job.opts === '{}' ? `{${tail}` : `${job.opts.slice(0, -1)},${tail}`;
    await this.t.insert(queue, jobId, { ...job, id: jobId, opts, delay, timestamp: now });
    return jobId;
  }

  async upsert(queue: string, rec: SchedulerRecord, it: SchedulerIteration): Promise<SchedulerUpsertResult> {
    await this.t.ensureQueue(queue);
    const { now } = it;
    const old = await this.row(queue, rec.id);
    const prevMillis = old?.next ?? undefined;
    const schedule = JSON.parse(rec.repeat) as { every?: number; startDate?: number };
    const every = schedule.every;
    let nextMillis = it.nextMillis ?? now;
    let newOffset = 0;
    let updatedEvery = false;
    if (every !== undefined) {
      let millis = prevMillis;
      if (old && prevMillis !== undefined && everyOf(old.repeat) !== every) {
        millis = undefined;
        updatedEvery = true;
      }
      ({ millis: nextMillis, offset: newOffset } = everyNextMillis(
        millis,
        every,
        now,
        rec.offset ?? 0,
        schedule.startDate,
      ));
    }
    // The current iteration's job goes when it has not started; its id is then free.
    const currentId = prevMillis === undefined ? undefined : jobIdOf(rec.id, prevMillis);
    const replacing = currentId !== undefined && (await this.unstarted(queue, currentId));
    if (replacing && every !== undefined && !updatedEvery) nextMillis = prevMillis as number;
    const taken = async (millis: number) => {
      const jobId = jobIdOf(rec.id, millis);
      return !(replacing && jobId === currentId) && (await this.t.exists(queue, jobId));
    };
    if (await taken(nextMillis)) {
      if (every === undefined) return { refused: 'collision' };
      let scans = 0;
      do {
        nextMillis += every;
        scans++;
      } while ((await taken(nextMillis)) && scans < 32);
      if (await taken(nextMillis)) return { refused: 'busy' };
    }
    if (replacing) await this.removeJob(queue, currentId);
    // A replaced iteration keeps the recorded offset unless the caller gave one (as BullMQ).
    const oldTemplate = old ? (JSON.parse(old.template) as StoredTemplate) : undefined;
    const offset = replacing ? (rec.offset ?? oldTemplate?.offset) : newOffset;
    const template: StoredTemplate = { name: rec.name, data: rec.data, opts: rec.opts, offset };
    await this.db
      .stmt(
        `INSERT INTO schedulers (queue, id, next, iteration_count, repeat, template, pending_job_id)
         VALUES (?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (queue, id) DO UPDATE SET next = excluded.next, iteration_count = excluded.iteration_count,
           repeat = excluded.repeat, template = excluded.template, pending_job_id = NULL`,
      )
      .run(queue, rec.id, nextMillis, old?.iteration_count ?? 1, rec.repeat, JSON.stringify(template));
    const jobId = await this.addIteration(queue, rec.id, it.job, nextMillis, now);
    return { jobId, delay: Math.max(0, nextMillis - now) };
  }

  async scheduleNext(
    queue: string,
    id: string,
    producerId: string,
    it: SchedulerIteration,
  ): Promise<string | undefined> {
    const row = await this.row(queue, id);
    if (!row || row.next === null || producerId !== jobIdOf(id, row.next)) return undefined;
    const template = JSON.parse(row.template) as StoredTemplate;
    const every = everyOf(row.repeat);
    const nextMillis =
      every === undefined
        ? (it.nextMillis as number)
        : everyNextMillis(row.next, every, it.now, template.offset ?? 0).millis;
    const jobId = jobIdOf(id, nextMillis);
    if (await this.t.exists(queue, jobId)) {
      this.t.emit(queue, 'duplicated', { jobId });
      return undefined;
    }
    await this.db
      .stmt('UPDATE schedulers SET next = ?, iteration_count = iteration_count + 1 WHERE queue = ? AND id = ?')
      .run(nextMillis, queue, id);
    return this.addIteration(queue, id, { ...it.job, name: template.name, data: template.data }, nextMillis, it.now);
  }

  async get(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    const row = await this.row(queue, id);
    return row ? toRecord(row) : undefined;
  }

  async list(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    const dir = asc ? 'ASC' : 'DESC';
    const limit = end < 0 ? null : Math.max(0, end - start + 1);
    const rows = (await this.db
      .stmt(
        `SELECT id, next, iteration_count, repeat, template FROM schedulers WHERE queue = ?
         ORDER BY next ${dir}, id COLLATE "C" ${dir} LIMIT ? OFFSET ?`,
      )
      .all(queue, limit, Math.max(0, start))) as SchedulerRow[];
    return rows.map(toRecord);
  }

  async count(queue: string): Promise<number> {
    return ((await this.db.stmt('SELECT count(*) AS n FROM schedulers WHERE queue = ?').get(queue)) as { n: number }).n;
  }

  /** Removes a scheduler and its current iteration's job when that is delayed (as BullMQ). */
  async remove(queue: string, id: string): Promise<boolean> {
    const row = await this.row(queue, id);
    if (!row) return false;
    if (row.next !== null) {
      const jobId = jobIdOf(id, row.next);
      if ((await this.t.row(queue, jobId))?.state === 'delayed') await this.removeJob(queue, jobId);
    }
    await this.db.stmt('DELETE FROM schedulers WHERE queue = ? AND id = ?').run(queue, id);
    return true;
  }
}

function toRecord(row: SchedulerRow): SchedulerRecord {
  const template = JSON.parse(row.template) as StoredTemplate;
  const record: SchedulerRecord = {
    id: row.id,
    repeat: row.repeat,
    name: template.name,
    data: template.data,
    opts: template.opts,
    iterationCount: row.iteration_count,
  };
  if (row.next !== null) record.next = row.next;
  if (template.offset !== undefined) record.offset = template.offset;
  return record;
}
