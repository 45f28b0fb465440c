/** Conversions between the Store's types and the flat values Lua scripts take and return. */
import type {
  FetchRequest,
  FetchResult,
  JobRecord,
  MoveCode,
  NewJob,
  Retention,
  SchedulerRecord,
  StoredEvent,
} from '../store.js';

/** A hash as returned by HGETALL: either ioredis's object or Lua's flat [field, value, …] list. */
export type RawHash = Record<string, string> | string[];

function asObject(raw: RawHash): Record<string, string> {
  if (!Array.isArray(raw)) return raw;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i]] = raw[i + 1];
  return out;
}

const optionalNumber = (value: string | undefined) => (value === undefined ? undefined : Number(value));

/** A job hash as a JobRecord; undefined when the hash is empty (no such job). */
export function toRecord(id: string, raw: RawHash): JobRecord | undefined {
  const h = asObject(raw);
  if (h.name === undefined) return undefined;
  const record: JobRecord = {
    id,
    name: h.name,
    data: h.data ?? '{}',
    opts: h.opts ?? '{}',
    progress: h.progress ?? '0',
    timestamp: Number(h.timestamp ?? 0),
    delay: Number(h.delay ?? 0),
    priority: Number(h.priority ?? 0),
    attemptsMade: Number(h.attemptsMade ?? 0),
    attemptsStarted: Number(h.attemptsStarted ?? 0),
    stalledCounter: Number(h.stalledCounter ?? 0),
  };
  const optional = {
    processedOn: optionalNumber(h.processedOn),
    finishedOn: optionalNumber(h.finishedOn),
    returnvalue: h.returnvalue,
    failedReason: h.failedReason,
    stacktrace: h.stacktrace,
    processedBy: h.processedBy,
    parent: h.parent,
    token: h.token || undefined, // a finished job keeps an empty token (scripts/complete.lua)
    deferredFailure: h.defa,
    steps: h.steps,
  };
  for (const [field, value] of Object.entries(optional)) {
    if (value !== undefined) (record as unknown as Record<string, unknown>)[field] = value;
  }
  return record;
}

/** The job fields a fetch returns, by position: keep in step with `fetchedFields` in scripts/includes/take.lua. */
const FETCHED_FIELDS = [
  'name',
  'data',
  'opts',
  'progress',
  'timestamp',
  'delay',
  'priority',
  'attemptsMade',
  'attemptsStarted',
  'stalledCounter',
  'processedOn',
  'finishedOn',
  'returnvalue',
  'failedReason',
  'stacktrace',
  'processedBy',
  'parent',
  'token',
  'deferredFailure', // the hash field `defa` (scripts/includes/flows.lua)
  'steps',
] as const;

type FetchedValue = string | number | false;

/** A fetched job (values of FETCHED_FIELDS, false for absent fields) as a JobRecord. */
function fetchedRecord(id: string, v: FetchedValue[]): JobRecord {
  const text = (i: number) => (v[i] === false ? undefined : String(v[i]));
  const num = (i: number) => (v[i] === false ? undefined : Number(v[i]));
  const record: JobRecord = {
    id,
    name: String(v[0]),
    data: text(1) ?? '{}',
    opts: text(2) ?? '{}',
    progress: text(3) ?? '0',
    timestamp: num(4) ?? 0,
    delay: num(5) ?? 0,
    priority: num(6) ?? 0,
    attemptsMade: num(7) ?? 0,
    attemptsStarted: num(8) ?? 0,
    stalledCounter: num(9) ?? 0,
  };
  for (let i = 10; i < FETCHED_FIELDS.length; i++) {
    if (v[i] === false) continue;
    const field = FETCHED_FIELDS[i];
    (record as unknown as Record<string, unknown>)[field] =
      field === 'processedOn' || field === 'finishedOn' ? Number(v[i]) : String(v[i]);
  }
  return record;
}

/** ARGV of a fetch request (layout in scripts/includes/take.lua); `[-1]` when there is none. */
export function fetchArgs(req: FetchRequest | undefined): (string | number)[] {
  if (!req) return [-1];
  const { tokens, lockDuration, processedBy, limiter, group, batch } = req;
  // A limiter's max below 1 lets one job through per window, as in BullMQ (0 here means no limiter).
  const limit = limiter ? [Math.max(1, limiter.max), limiter.duration] : [0, 0];
  // Group limits and a batch's rules ride with the tokens ({t, g?: [concurrency, max, duration],
  // 0 = none; b?: [group affinity 0/1, min jobs]}), so a fetch without them keeps its arguments as they were.
  const last =
    group || batch
      ? JSON.stringify({
          t: tokens,
          ...(group && {
            g: [group.concurrency ?? 0, group.limit ? Math.max(1, group.limit.max) : 0, group.limit?.duration ?? 0],
          }),
          ...(batch && { b: [batch.groupAffinity ? 1 : 0, batch.minJobs ?? 1] }),
        })
      : JSON.stringify(tokens);
  return [tokens.length, lockDuration, processedBy ?? '', ...limit, last];
}

/** Fetched jobs come as JSON text (scripts/includes/fetch.lua), or an empty list when none. */
type RawFetch = [string | [], number, number, number];

export function toFetchResult(raw: unknown): FetchResult {
  const [jobs, rateLimitTtl, nextDelayedAt, paused] = raw as RawFetch;
  const fetched = typeof jobs === 'string' ? (JSON.parse(jobs) as [string, FetchedValue[]][]) : [];
  const result: FetchResult = {
    jobs: fetched.map(([id, values]) => fetchedRecord(id, values)),
    rateLimitTtl: Number(rateLimitTtl),
    paused: Number(paused) === 1,
  };
  if (Number(nextDelayedAt) >= 0) result.nextDelayedAt = Number(nextDelayedAt);
  return result;
}

/** complete/fail answer `{codes, next | 0}`. */
export function toMoveResult(raw: unknown): { codes: MoveCode[]; next?: FetchResult } {
  const [codes, next] = raw as [number[], unknown];
  const result: { codes: MoveCode[]; next?: FetchResult } = { codes: codes.map((c) => Number(c) as MoveCode) };
  if (Array.isArray(next)) result.next = toFetchResult(next);
  return result;
}

/**
 * ARGV of a retention: remove ('1'/'0'), keep count (-1 = all), max age ms (-1 = any), most
 * removed by age (-1 = no cap).
 */
export function retentionArgs(r: Retention): (string | number)[] {
  return [r.remove ? '1' : '0', r.count ?? -1, r.ageMs ?? -1, r.limit ?? -1];
}

type StreamEntry = [string, string[]];

/**
 * XREAD's answer for one stream as StoredEvents. Under RESP2 (and RESP3 with ioredis's array
 * mapping of maps) it is `[[key, entries]]`; a flattened map gives `[key, entries]`: accept both.
 */
export function toEvents(raw: unknown): StoredEvent[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const entries: StreamEntry[] = typeof raw[0] === 'string' ? raw[1] : raw[0][1];
  const events: StoredEvent[] = [];
  for (const [id, fields] of entries) {
    if (fields[0] === 'event' && fields[1] === 'batch' && fields[2] === 'events') {
      // Several events of one script call (scripts/includes/base.lua): they share the entry's id.
      for (const [name, ...pairs] of JSON.parse(fields[3]) as string[][]) events.push(toEvent(id, name, pairs));
    } else {
      events.push(toEvent(id, '', fields));
    }
  }
  return events;
}

function toEvent(id: string, name: string, pairs: string[]): StoredEvent {
  const event = {} as StoredEvent;
  for (let i = 0; i + 1 < pairs.length; i += 2) event[pairs[i]] = String(pairs[i + 1]);
  // The entry's id wins over a field of that name (one written by hand would stop the reader at it).
  event.id = id;
  if (name !== '') event.event = name;
  return event;
}

/** A job to insert as the 9 ARGV values scripts/includes/jobs.lua `readJob` reads. */
export function jobArgs(job: NewJob): (string | number)[] {
  const parent = job.parent ? JSON.stringify(job.parent) : '';
  return [
    job.id ?? '',
    job.name,
    job.data,
    job.opts,
    job.timestamp,
    job.delay,
    job.priority,
    job.lifo ? '1' : '0',
    parent,
  ];
}

/** A job's deduplication options as the ARGV value scripts/includes/dedup.lua reads ('' = none). */
export function dedupArg(job: NewJob): string {
  return job.dedup ? JSON.stringify(job.dedup) : '';
}

/** A scheduler hash (`<q>:repeat:<id>`) as a SchedulerRecord; undefined when empty. */
export function toScheduler(id: string, h: Record<string, string>): SchedulerRecord | undefined {
  if (h.repeat === undefined) return undefined;
  const record: SchedulerRecord = {
    id,
    repeat: h.repeat,
    name: h.name ?? id,
    data: h.data ?? '{}',
    opts: h.opts ?? '{}',
    iterationCount: Number(h.iterationCount ?? 0),
  };
  if (h.next !== undefined) record.next = Number(h.next);
  if (h.offset !== undefined) record.offset = Number(h.offset);
  return record;
}

interface Execable {
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** Runs a MULTI or pipeline and returns its replies, throwing the first error. */
export async function execAll(batch: Execable, what: string): Promise<unknown[]> {
  const replies = await batch.exec();
  if (!replies) throw new Error(`${what} was aborted; retry.`);
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, value]) => value);
}
