import { randomUUID } from 'node:crypto';
import type {
  AddResult,
  CancelNotice,
  CancelResult,
  CompleteItem,
  Dependencies,
  FailItem,
  FetchRequest,
  FetchResult,
  FlowJob,
  GroupChange,
  GroupInfo,
  JobRecord,
  JobState,
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  StalledResult,
  Store,
  StoredEvent,
} from '../store.js';
import { Adding } from './adding.js';
import { CancelSubscriber } from './cancels.js';
import { checkSameSlot, type RedisClient } from './cluster.js';
import { toEvents } from './codec.js';
import type { RedisStoreOptions } from './connection.js';
import { RedisGroups } from './groups.js';
import { keyOf } from './keys.js';
import { RedisMeta } from './meta.js';
import { RedisParityStore } from './parity-store.js';
import { WorkerPath } from './worker-path.js';

export type { RedisStoreOptions } from './connection.js';

/**
 * The Store on Redis: each transition is one Lua script in `scripts/` (see keys.ts for the layout),
 * run through the connection (connection.ts), which stamps each queue before its first use.
 */
export class RedisStore extends RedisParityStore implements Store {
  readonly kind = 'redis' as const;
  private readonly worker: WorkerPath;
  private readonly adding: Adding;
  private readonly groups: RedisGroups;
  readonly meta: RedisMeta;
  private readonly cancels: CancelSubscriber;

  constructor(client: RedisClient, opts: RedisStoreOptions = {}) {
    super(client, opts);
    this.worker = new WorkerPath(this.conn);
    this.adding = new Adding(this.conn);
    this.meta = new RedisMeta(client, (queue: string) => this.conn.queueReady(queue));
    this.cancels = new CancelSubscriber(client);
    this.groups = new RedisGroups(this.conn);
  }

  updateGroup(queue: string, id: string, change: GroupChange): Promise<boolean> {
    return this.groups.update(queue, id, change);
  }
  getGroup(queue: string, id: string): Promise<GroupInfo | undefined> {
    return this.groups.get(queue, id);
  }
  getGroups(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    return this.groups.list(queue, start, end);
  }
  getGroupJobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    return this.groups.jobIds(queue, id, start, end);
  }

  get redisClient(): RedisClient {
    return this.conn.client;
  }

  /** On a Cluster: refuses a queue whose keys would spread over several slots (cluster.ts). */
  checkQueue(queue: string): void {
    checkSameSlot(this.conn.client, [queue], `Queue ${queue}`);
  }

  async ready(queue?: string, opts?: { waiter?: boolean }): Promise<void> {
    // A worker's blocking connection is connected before it counts as ready, as in BullMQ: a worker
    // that is ready then wakes for a job added next before a worker started after it can take it.
    // A worker also subscribes to its queue's cancel notices up front, so that a cancel made right
    // after its first job started is not published before the subscription exists.
    await Promise.all([
      this.conn.ready(queue),
      opts?.waiter ? this.conn.blocking.warm() : undefined,
      opts?.waiter && queue !== undefined ? this.cancels.subscribe(queue) : undefined,
    ]);
  }

  close(): Promise<void> {
    this.cancels.close();
    return this.conn.close();
  }

  // ── adding ────────────────────────────────────────────────────────────────────────

  addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    return this.adding.addJobs(queue, jobs);
  }

  addFlow(nodes: FlowJob[]): Promise<AddResult> {
    return this.adding.addFlow(nodes);
  }

  // ── the worker path ───────────────────────────────────────────────────────────────

  fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    return this.worker.fetchNext(queue, req);
  }

  /** Blocks on `<q>:marker` (see worker-path.ts): every transition that makes a job runnable puts a member in it. */
  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.worker.waitForWork(queue, timeoutMs, signal);
  }

  complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.worker.complete(queue, items, now, fetch);
  }

  fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.worker.fail(queue, items, now, fetch);
  }

  cancelJob(
    queue: string,
    id: string,
    failedReason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult> {
    return this.worker.cancelJob(queue, id, failedReason, now, retention, metrics);
  }

  watchCancels(queue: string, listener: (notice: CancelNotice) => void): () => void {
    return this.cancels.watch(queue, listener);
  }

  extendLocks(queue: string, ids: string[], tokens: string[], durationMs: number, now: number): Promise<string[]> {
    return this.worker.extendLocks(queue, ids, tokens, durationMs, now);
  }

  recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    return this.worker.recoverStalled(queue, opts);
  }

  // The moves below carry a call id, as the worker path's do (worker-path.ts): a resent call gets the first answer.

  async moveToDelayed(queue: string, id: string, token: string | undefined, timestamp: number, now: number) {
    const args = [id, token ?? '', timestamp, now, randomUUID()];
    return Number(await this.conn.run('moveToDelayed', queue, args)) as MoveCode;
  }

  async recordStep(
    queue: string,
    id: string,
    token: string,
    step: string,
    result: string,
    now: number,
    delayUntil?: number,
  ): Promise<MoveCode> {
    const args = [id, token, step, result, now, delayUntil ?? '', randomUUID()];
    return Number(await this.conn.run('recordStep', queue, args)) as MoveCode;
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number) {
    return Number(await this.conn.run('moveToWait', queue, [id, token ?? '', now, randomUUID()])) as MoveCode;
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    return Number(await this.conn.run('moveToWaitingChildren', queue, [id, token ?? '', now, randomUUID()]));
  }

  getDependencies(queue: string, id: string): Promise<Dependencies> {
    return this.reads.dependencies(queue, id);
  }

  // ── queue-wide controls ───────────────────────────────────────────────────────────

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.conn.run('pause', queue, [paused ? '1' : '0']);
  }

  isPaused(queue: string): Promise<boolean> {
    return this.reads.isPaused(queue);
  }

  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.conn.run('rateLimit', queue, [now, ms]);
  }

  async getRateLimitTtl(queue: string, now: number, maxJobs = 0): Promise<number> {
    return Number(await this.conn.run('getRateLimitTtl', queue, [now, maxJobs]));
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────

  getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.reads.job(queue, id);
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return (await this.conn.run('getState', queue, [id])) as JobState | 'unknown';
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    const counts = types.length ? ((await this.conn.run('getCounts', queue, types)) as number[]) : [];
    return Object.fromEntries(types.map((type, i) => [type, Number(counts[i])]));
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    if (types.length === 0) return [];
    const ids = (await this.conn.run('getRange', queue, [start, end, asc ? '1' : '0', ...types])) as string[];
    return ids.map(String);
  }

  getLogs(queue: string, id: string, start: number, end: number, asc: boolean) {
    return this.reads.logs(queue, id, start, end, asc);
  }

  // ── job updates (no lock needed) ──────────────────────────────────────────────────

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    return Number(await this.conn.run('updateProgress', queue, [id, progress])) as MoveCode;
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    return Number(await this.conn.run('updateData', queue, [id, data])) as MoveCode;
  }

  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    return Number(await this.conn.run('addLog', queue, [id, row, keepLogs ?? '']));
  }

  clearLogs(queue: string, id: string, keep: number): Promise<void> {
    return this.admin.clearLogs(queue, id, keep);
  }

  async remove(queue: string, id: string, now: number, removeChildren = false): Promise<number> {
    return Number(await this.conn.run('remove', queue, [id, now, removeChildren ? '1' : '0']));
  }

  // ── moving jobs outside the worker path ───────────────────────────────────────────

  async promote(queue: string, id: string): Promise<MoveCode> {
    return Number(await this.conn.run('promote', queue, [id])) as MoveCode;
  }

  async promoteJobs(queue: string, count: number): Promise<number> {
    return Number(await this.conn.run('promoteJobs', queue, [count]));
  }

  async retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode> {
    const args = [id, state, reset.attemptsMade ? '1' : '0', reset.attemptsStarted ? '1' : '0'];
    return Number(await this.conn.run('retryJob', queue, args)) as MoveCode;
  }

  async retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number> {
    return Number(await this.conn.run('retryJobs', queue, [state, count, timestamp]));
  }

  async changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode> {
    return Number(await this.conn.run('changeDelay', queue, [id, delay, now])) as MoveCode;
  }

  async changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode> {
    return Number(await this.conn.run('changePriority', queue, [id, priority, lifo ? '1' : '0'])) as MoveCode;
  }

  // ── bulk housekeeping ─────────────────────────────────────────────────────────────

  async clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]> {
    const ids = (await this.conn.run('clean', queue, [now - graceMs, limit, type, now])) as string[];
    return ids.map(String);
  }

  async drain(queue: string, delayed: boolean): Promise<void> {
    await this.conn.run('drain', queue, [delayed ? '1' : '0', Date.now()]);
  }

  async obliterate(queue: string, force: boolean, count: number): Promise<number> {
    const left = Number(await this.conn.run('obliterate', queue, [force ? '1' : '0', count, Date.now()]));
    // The meta stamp is gone with the queue: the next use stamps it again.
    if (left === 0) this.conn.forgetQueue(queue);
    return left;
  }

  trimEvents(queue: string, maxLen: number): Promise<number> {
    return this.admin.trimEvents(queue, maxLen);
  }

  publishEvent(queue: string, event: string, fields: Record<string, string>, maxEvents: number): Promise<void> {
    return this.admin.publishEvent(queue, event, fields, maxEvents);
  }

  // ── events ────────────────────────────────────────────────────────────────────────

  lastEventId(queue: string): Promise<string> {
    return this.reads.lastEventId(queue);
  }

  /** Scans the queue's job hashes; one whose id is in no state list is removed (by the remove script). */
  removeOrphanedJobs(queue: string, count: number, limit: number): Promise<number> {
    return this.admin.removeOrphanedJobs(queue, count, limit, this);
  }

  /** @internal for removeOrphanedJobs (OrphanOps). */
  async removeOrphanKeys(queue: string, id: string): Promise<number> {
    return Number(await this.conn.run('removeOrphan', queue, [id]));
  }

  /** Names (without the prefix) of the Docket queues stored under `prefix`, sorted. */
  listQueues(prefix: string): Promise<string[]> {
    return this.reads.queueNames(prefix);
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    await this.conn.queueReady(queue);
    const key = keyOf.events(queue);
    if (blockMs <= 0) return toEvents(await this.conn.client.xread('STREAMS', key, afterId));
    return this.conn.blocking.run(signal, [], async (client) =>
      toEvents(await client.xread('BLOCK', blockMs, 'STREAMS', key, afterId)),
    );
  }
}
