import { type JobRow, toRecord } from '../sql/rows.js';
import type { CompleteItem, FetchRequest, FetchResult, MoveResult } from '../store.js';
import { MINUTE_COUNTS_KEPT } from '../types.js';
import { queueLockKey } from './conn.js';
import type { SharedPool } from './database.js';
import { type EventLog, fieldsJson } from './event-log.js';
import { NOT_ITS_CASE } from './functions.js';
import { quoteIdent } from './schema.js';
import { LONE_SURROGATE } from './transition-sql.js';

/** The most calls of a queue that go straight to the general path after its calls kept falling back. */
const MAX_SKIP = 64;

/** What `docket_complete` and `docket_take` return (functions.ts), as JSON text. */
interface CallResult {
  jobs: JobRow[];
  nextDelayed: number | null;
  /** Event rows written (the log's trim counts rows). */
  events: number;
}

/**
 * Whether `docket_complete` may take the items: each held by a token, once, without metrics or a
 * lone surrogate, and all kept or all removed at once (removeOnComplete; no count or age rules).
 * Its `p_remove` then, or undefined when it may not.
 */
function removal(items: CompleteItem[], fetch: FetchRequest | undefined): boolean | undefined {
  if (items.length === 0) return undefined;
  if (fetch && (fetch.tokens.length === 0 || fetch.limiter || fetch.batch)) return undefined;
  const remove = !!items[0].retention.remove;
  const seen = new Set<string>();
  for (const { id, token, returnvalue, retention: keep, metrics } of items) {
    if (!token || seen.has(id) || metrics || LONE_SURROGATE.test(returnvalue)) return undefined;
    if (!!keep.remove !== remove || keep.count !== undefined || keep.ageMs !== undefined) return undefined;
    seen.add(id);
  }
  return remove;
}

function fetchResult(result: CallResult): FetchResult {
  const next: FetchResult = { jobs: result.jobs.map(toRecord), rateLimitTtl: 0, paused: false };
  if (result.nextDelayed !== null) next.nextDelayedAt = result.nextDelayed;
  return next;
}

/**
 * The worker path's moves as one call of a schema function each (functions.ts): one round trip
 * where the general path takes two, on plans the server keeps. Each method returns undefined when
 * its call was not for the case (the items, the fetch, or what the server found: a lost lock, a
 * parent, a group, a paused queue…), having changed nothing; the caller then runs the general path,
 * in the same `serial` turn. A queue whose calls keep falling back (a flow's children, a queue
 * with groups) skips them for a while, doubling up to MAX_SKIP calls, so it pays the extra round
 * trip rarely.
 */
export class FunctionCalls {
  /** Per queue and function: calls left to skip, and the next skip's length. */
  private readonly skips = new Map<string, { left: number; next: number }>();

  constructor(
    private readonly shared: SharedPool,
    private readonly log: EventLog,
  ) {}

  /** Store.complete by `docket_complete`; undefined: run the general path. */
  async complete(
    queue: string,
    items: CompleteItem[],
    now: number,
    fetch?: FetchRequest,
  ): Promise<MoveResult | undefined> {
    const remove = removal(items, fetch);
    // Past the trim threshold the general path runs: it trims (transitions.ts).
    if (this.log.sinceTrim >= this.log.caps.threshold() || remove === undefined || this.skipping(`c ${queue}`))
      return undefined;
    const minute = Math.floor(now / 60_000);
    const take = fetch?.tokens ?? [];
    const result = await this.call(`c ${queue}`, 'docket_complete', (schema) => [
      queue,
      queueLockKey(schema, queue),
      items.map((i) => i.id),
      items.map((i) => i.token),
      items.map((i) => i.returnvalue),
      items.map((i) => fieldsJson({ jobId: i.id, returnvalue: i.returnvalue, prev: 'active' })),
      remove,
      now,
      minute,
      minute - MINUTE_COUNTS_KEPT,
      take.length,
      take,
      fetch?.now ?? now,
      fetch?.lockDuration ?? 0,
      fetch?.processedBy ?? null,
      this.shared.channel,
      this.shared.sender,
    ]);
    if (!result) return undefined;
    this.wrote(queue, result.events);
    const codes = items.map(() => 0 as const);
    return fetch ? { codes, next: fetchResult(result) } : { codes };
  }

  /** Store.fetchNext by `docket_take` when it is a plain take (the caller leaves out limiters and batches). */
  async take(queue: string, req: FetchRequest): Promise<FetchResult | undefined> {
    if (this.skipping(`t ${queue}`)) return undefined;
    const result = await this.call(`t ${queue}`, 'docket_take', (schema) => [
      queue,
      queueLockKey(schema, queue),
      req.tokens.length,
      req.tokens,
      req.now,
      req.lockDuration,
      req.processedBy ?? null,
      this.shared.channel,
      this.shared.sender,
    ]);
    if (!result) return undefined;
    if (result.events > 0) this.wrote(queue, result.events);
    return fetchResult(result);
  }

  private wrote(queue: string, events: number): void {
    this.log.sinceTrim += events;
    this.shared.listener.notify(queue);
  }

  private skipping(key: string): boolean {
    const skip = this.skips.get(key);
    if (!skip || skip.left === 0) return false;
    skip.left--;
    return true;
  }

  /** Calls `fn` with `values(schema)`; null when it fell back (NULL, or NOT_ITS_CASE: undone whole). */
  private async call(key: string, fn: string, values: (schema: string) => unknown[]): Promise<CallResult | null> {
    let text: string | null;
    try {
      text = (await this.shared.statement(async (db) => {
        const params = values(db.schema);
        const sql = `SELECT ${quoteIdent(db.schema)}.${fn}(${CASTS[fn].map((cast) => `?::${cast}`).join(', ')})`;
        if (params.length !== CASTS[fn].length) throw new Error(`${fn} takes ${CASTS[fn].length} values`);
        return db.rawStmt(sql, true).get(...params);
      })) as string | null;
    } catch (err) {
      if ((err as { code?: string }).code !== NOT_ITS_CASE) throw err;
      text = null;
    }
    if (text === null) {
      const skip = this.skips.get(key);
      const next = Math.min(MAX_SKIP, skip ? skip.next * 2 : 1);
      this.skips.set(key, { left: next, next });
      return null;
    }
    this.skips.delete(key);
    return JSON.parse(text) as CallResult;
  }
}

/** Each function's parameter types, in order (functions.ts). */
const CASTS: Record<string, string[]> = {
  docket_complete: [
    'text',
    'bigint',
    'text[]',
    'text[]',
    'text[]',
    'text[]',
    'boolean',
    'float8',
    'bigint',
    'bigint',
    'int',
    'text[]',
    'float8',
    'bigint',
    'text',
    'text',
    'text',
  ],
  docket_take: ['text', 'bigint', 'int', 'text[]', 'float8', 'bigint', 'text', 'text', 'text'],
};
