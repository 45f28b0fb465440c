import { type JobRow, toRecord } from '../sql/rows.js';
import type { CompleteItem, FetchRequest, FetchResult, MoveResult } from '../store.js';
import { MINUTE_COUNTS_KEPT } from '../types.js';
import { queueLockKey } from './conn.js';
import type { SharedPool } from './database.js';
import { type EventLog, fieldsJson } from './event-log.js';
import { quoteIdent } from './schema.js';
import { LONE_SURROGATE } from './transition-sql.js';

/** Events written since the last trim past which the general path runs (it trims: transitions.ts). */
const TRIM_AFTER = 5000;

/** What `docket_complete` and `docket_take` return (functions.ts). */
interface CallResult {
  jobs: JobRow[];
  nextDelayed: number | null;
  events: number;
}

/** The items `docket_complete` may take: each held by a token, once, with no retention, metrics or lone surrogate. */
function callable(items: CompleteItem[], fetch: FetchRequest | undefined): boolean {
  if (items.length === 0) return false;
  if (fetch && (fetch.tokens.length === 0 || fetch.limiter || fetch.batch)) return false;
  const seen = new Set<string>();
  for (const { id, token, returnvalue, retention: keep, metrics } of items) {
    if (!token || seen.has(id) || metrics || LONE_SURROGATE.test(returnvalue)) return false;
    if (keep.remove || keep.count !== undefined || keep.ageMs !== undefined) return false;
    seen.add(id);
  }
  return true;
}

/**
 * Store.complete as one call of the schema's `docket_complete` (functions.ts): one round trip where
 * the general path takes two, on plans the server keeps. Undefined when the call is not for it (the
 * items, the fetch, or what the server found: a lost lock, a parent, a group, a paused queue…);
 * the caller then runs the general path, which nothing here has changed.
 */
export async function completeInOneCall(
  shared: SharedPool,
  log: EventLog,
  queue: string,
  items: CompleteItem[],
  now: number,
  fetch?: FetchRequest,
): Promise<MoveResult | undefined> {
  if (log.sinceTrim >= TRIM_AFTER || !callable(items, fetch)) return undefined;
  const minute = Math.floor(now / 60_000);
  const take = fetch?.tokens ?? [];
  const result = (await shared.serial(queue, () =>
    shared.statement(async (db) => {
      const sql = `SELECT ${quoteIdent(db.schema)}.docket_complete(?::text, ?::bigint, ?::text[], ?::text[],
        ?::text[], ?::text[], ?::float8, ?::bigint, ?::bigint, ?::int, ?::text[], ?::float8, ?::bigint, ?::text,
        ?::text, ?::text)`;
      return db.rawStmt(sql, true).get(
        queue,
        queueLockKey(db.schema, queue),
        items.map((i) => i.id),
        items.map((i) => i.token),
        items.map((i) => i.returnvalue),
        items.map((i) => fieldsJson({ jobId: i.id, returnvalue: i.returnvalue, prev: 'active' })),
        now,
        minute,
        minute - MINUTE_COUNTS_KEPT,
        take.length,
        take,
        fetch?.now ?? now,
        fetch?.lockDuration ?? 0,
        fetch?.processedBy ?? null,
        shared.channel,
        shared.sender,
      );
    }),
  )) as CallResult | null;
  if (!result) return undefined;
  log.sinceTrim += result.events;
  shared.listener.notify(queue);
  const codes = items.map(() => 0 as const);
  return fetch ? { codes, next: fetchResult(result) } : { codes };
}

function fetchResult(result: CallResult): FetchResult {
  const next: FetchResult = { jobs: result.jobs.map(toRecord), rateLimitTtl: 0, paused: false };
  if (result.nextDelayed !== null) next.nextDelayedAt = result.nextDelayed;
  return next;
}

/**
 * Store.fetchNext as one call of the schema's `docket_take` (functions.ts) when it is a plain take:
 * the caller leaves out a worker's limiter and batches; undefined when the server found more to do
 * (a paused or limited queue, a delayed job due, a ready group, no queue row yet), and the caller
 * then fetches the general way.
 */
export async function takeInOneCall(
  shared: SharedPool,
  log: EventLog,
  queue: string,
  req: FetchRequest,
): Promise<FetchResult | undefined> {
  const result = (await shared.serial(queue, () =>
    shared.statement(async (db) => {
      const sql = `SELECT ${quoteIdent(db.schema)}.docket_take(?::text, ?::bigint, ?::int, ?::text[], ?::float8,
        ?::bigint, ?::text, ?::text, ?::text)`;
      return db
        .rawStmt(sql, true)
        .get(
          queue,
          queueLockKey(db.schema, queue),
          req.tokens.length,
          req.tokens,
          req.now,
          req.lockDuration,
          req.processedBy ?? null,
          shared.channel,
          shared.sender,
        );
    }),
  )) as CallResult | null;
  if (!result) return undefined;
  if (result.events > 0) {
    log.sinceTrim += result.events;
    shared.listener.notify(queue);
  }
  return fetchResult(result);
}
