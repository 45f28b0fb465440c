import { stateOf } from '../sql/rows.js';
import type { NewJob, SchedulerIteration, SchedulerRecord, SchedulerUpsertResult } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/**
 * The `schedulers` row. `template` holds JSON `{ name, data, opts, offset? }` (data and opts as the
 * JSON texts the record carries); `pending_job_id` is unused: the current iteration's job is
 * `repeat:<id>:<next>`, as on Redis (scripts/includes/schedulers.lua).
 */
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
function schedulerOfJob(jobId: string): { id: string; millis: number } | undefined {
  if (!jobId.startsWith('repeat:')) return undefined;
  const at = jobId.lastIndexOf(':');
  if (at <= 7) return undefined;
  return { id: jobId.slice(7, at), millis: Number(jobId.slice(at + 1)) };
}

/**
 * True when `jobId` is the current iteration of one of the queue's schedulers (BullMQ's
 * isJobSchedulerJob): remove refuses it, drain and clean keep it.
 */
export function isCurrentIteration(sdb: SharedDatabase, queue: string, jobId: string): boolean {
  const job = schedulerOfJob(jobId);
  if (!job) return false;
  const row = sdb.stmt('SELECT next FROM schedulers WHERE queue = ? AND id = ?').get(queue, job.id) as
    | { next: number | null }
    | undefined;
  return row?.next === job.millis;
}

const everyOf = (repeat: string) => (JSON.parse(repeat) as { every?: number }).every;

/**
 * The time of an `every` iteration and the offset to record (BullMQ's rule; the same as
 * everyNextMillis in scripts/includes/schedulers.lua). The first iteration (no prevMillis) runs now,
 * at startDate when later, or at the next `offset` slot when an offset was given; later ones at
 * prevMillis + every, or, when that has passed, at the next slot after now.
 */
export function everyNextMillis(
  prevMillis: number | undefined,
  every: number,
  now: number,
  offset: number,
  startDate?: number,
): { millis: number; offset: number } {
  const nextSlot = () => {
    const slot = Math.floor(now / every) * every + offset;
    return slot <= now ? slot + every : slot;
  };
  let millis: number;
  if (prevMillis === undefined) {
    if (startDate !== undefined) millis = Math.max(startDate, now);
    else millis = offset > 0 ? nextSlot() : now;
  } else {
    millis = prevMillis + every;
    if (millis < now) millis = nextSlot();
  }
  const recorded = offset === 0 ? millis - Math.floor(millis / every) * every : offset;
  return { millis: Math.floor(millis), offset: Math.floor(recorded) };
}

/** Job schedulers on SQLite (the transitions of scripts/upsertScheduler.lua and friends). Runs inside the caller's transaction. */
export class Schedulers {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  private row(queue: string, id: string): SchedulerRow | undefined {
    return this.sdb
      .stmt('SELECT id, next, iteration_count, repeat, template FROM schedulers WHERE queue = ? AND id = ?')
      .get(queue, id) as SchedulerRow | undefined;
  }

  /**
   * True when job `jobId` exists and has not started (delayed, prioritized or waiting), so that an
   * upsert may replace it. As in BullMQ, a waiting one of a paused queue is left alone (BullMQ looks
   * for it in its paused list, which v6 no longer fills).
   */
  private unstarted(queue: string, jobId: string): boolean {
    const row = this.t.row(queue, jobId);
    if (!row) return false;
    const state = stateOf(row);
    return state === 'delayed' || state === 'prioritized' || (state === 'waiting' && this.t.meta(queue).paused !== 1);
  }

  private removeJob(queue: string, jobId: string): void {
    const row = this.t.row(queue, jobId);
    if (!row) return;
    this.t.deleteJob(queue, row.id, row.rowid);
    this.t.emit(queue, 'removed', { jobId: row.id, prev: stateOf(row) });
  }

  /** Adds iteration `millis`: the job due then, `delay` and `prevMillis` appended to its options. */
  private addIteration(queue: string, id: string, job: NewJob, millis: number, now: number): string {
    const jobId = jobIdOf(id, millis);
    const delay = Math.max(0, millis - now);
    const tail = `"delay":${delay},"prevMillis":${millis}}`;
    const opts = job.opts === '{}' ? `{${tail}` : `${job.opts.slice(0, -1)},${tail}`;
    this.t.insert(queue, jobId, { ...job, id: jobId, opts, delay, timestamp: now });
    return jobId;
  }

  upsert(queue: string, rec: SchedulerRecord, it: SchedulerIteration): SchedulerUpsertResult {
    this.t.ensureQueue(queue);
    const { now } = it;
    const old = this.row(queue, rec.id);
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
    const replacing = currentId !== undefined && this.unstarted(queue, currentId);
    if (replacing && every !== undefined && !updatedEvery) nextMillis = prevMillis as number;
    const taken = (millis: number) => {
      const jobId = jobIdOf(rec.id, millis);
      return !(replacing && jobId === currentId) && this.t.exists(queue, jobId);
    };
    if (taken(nextMillis)) {
      if (every === undefined) return { refused: 'collision' };
      let scans = 0;
      do {
        nextMillis += every;
        scans++;
      } while (taken(nextMillis) && scans < 32);
      if (taken(nextMillis)) return { refused: 'busy' };
    }
    if (replacing) this.removeJob(queue, currentId);
    // A replaced iteration keeps the recorded offset unless the caller gave one (as BullMQ).
    const oldTemplate = old ? (JSON.parse(old.template) as StoredTemplate) : undefined;
    const offset = replacing ? (rec.offset ?? oldTemplate?.offset) : newOffset;
    const template: StoredTemplate = { name: rec.name, data: rec.data, opts: rec.opts, offset };
    this.sdb
      .stmt(
        `INSERT OR REPLACE INTO schedulers (queue, id, next, iteration_count, repeat, template, pending_job_id)
         VALUES (?, ?, ?, ?, ?, ?, NULL)`,
      )
      .run(queue, rec.id, nextMillis, old?.iteration_count ?? 1, rec.repeat, JSON.stringify(template));
    const jobId = this.addIteration(queue, rec.id, it.job, nextMillis, now);
    return { jobId, delay: Math.max(0, nextMillis - now) };
  }

  scheduleNext(queue: string, id: string, producerId: string, it: SchedulerIteration): string | undefined {
    const row = this.row(queue, id);
    if (!row || row.next === null || producerId !== jobIdOf(id, row.next)) return undefined;
    const template = JSON.parse(row.template) as StoredTemplate;
    const every = everyOf(row.repeat);
    const nextMillis =
      every === undefined
        ? (it.nextMillis as number)
        : everyNextMillis(row.next, every, it.now, template.offset ?? 0).millis;
    const jobId = jobIdOf(id, nextMillis);
    if (this.t.exists(queue, jobId)) {
      this.t.emit(queue, 'duplicated', { jobId });
      return undefined;
    }
    this.sdb
      .stmt('UPDATE schedulers SET next = ?, iteration_count = iteration_count + 1 WHERE queue = ? AND id = ?')
      .run(nextMillis, queue, id);
    return this.addIteration(queue, id, { ...it.job, name: template.name, data: template.data }, nextMillis, it.now);
  }

  get(queue: string, id: string): SchedulerRecord | undefined {
    const row = this.row(queue, id);
    return row ? toRecord(row) : undefined;
  }

  list(queue: string, start: number, end: number, asc: boolean): SchedulerRecord[] {
    const dir = asc ? 'ASC' : 'DESC';
    const limit = end < 0 ? -1 : end - start + 1;
    const rows = this.sdb
      .stmt(
        `SELECT id, next, iteration_count, repeat, template FROM schedulers WHERE queue = ?
         ORDER BY next ${dir}, id ${dir} LIMIT ? OFFSET ?`,
      )
      .all(queue, limit, start) as SchedulerRow[];
    return rows.map(toRecord);
  }

  count(queue: string): number {
    return (this.sdb.stmt('SELECT count(*) AS n FROM schedulers WHERE queue = ?').get(queue) as { n: number }).n;
  }

  /** Removes a scheduler and its current iteration's job when that is delayed (as BullMQ). */
  remove(queue: string, id: string): boolean {
    const row = this.row(queue, id);
    if (!row) return false;
    if (row.next !== null) {
      const jobId = jobIdOf(id, row.next);
      if (this.t.row(queue, jobId)?.state === 'delayed') this.removeJob(queue, jobId);
    }
    this.sdb.stmt('DELETE FROM schedulers WHERE queue = ? AND id = ?').run(queue, id);
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
