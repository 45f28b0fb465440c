import { metricPoints } from '../metric-points.js';
import { toMinuteCounts } from '../minute-counts.js';
import type { Dependencies, JobRecord, MetricsRead, MinuteCount, SchedulerRecord } from '../store.js';
import { type RedisClient, scanAll } from './cluster.js';
import { execAll, toRecord, toScheduler } from './codec.js';
import { keyOf } from './keys.js';

/**
 * The store's reads that need no script: plain commands, or one MULTI where two keys must agree.
 * Each first waits for the queue's stamp (`ready`), as every store method does.
 */
export class Reads {
  constructor(
    private readonly client: RedisClient,
    private readonly ready: (queue: string) => Promise<void>,
  ) {}

  async dependencies(queue: string, id: string): Promise<Dependencies> {
    await this.ready(queue);
    const [processed, unprocessed, failed, ignored] = await execAll(
      this.client
        .multi()
        .hgetall(keyOf.processed(queue, id))
        .smembers(keyOf.dependencies(queue, id))
        .hgetall(keyOf.failedChildren(queue, id))
        .hgetall(keyOf.ignoredChildren(queue, id)),
      `Reading the dependencies of job ${id} in queue ${queue}`,
    );
    return {
      processed: processed as Record<string, string>,
      unprocessed: (unprocessed as string[]).sort(),
      failed: failed as Record<string, string>,
      ignored: ignored as Record<string, string>,
    };
  }

  async isPaused(queue: string): Promise<boolean> {
    await this.ready(queue);
    return (await this.client.hexists(keyOf.meta(queue), 'paused')) === 1;
  }

  async job(queue: string, id: string): Promise<JobRecord | undefined> {
    await this.ready(queue);
    return toRecord(id, await this.client.hgetall(keyOf.job(queue, id)));
  }

  async logs(queue: string, id: string, start: number, end: number, asc: boolean) {
    await this.ready(queue);
    const key = keyOf.logs(queue, id);
    // Newest first reads the mirrored slice from the list's end.
    const [from, to] = asc ? [start, end] : [end === -1 ? 0 : -(end + 1), -(start + 1)];
    const [logs, count] = await execAll(
      this.client.multi().lrange(key, from, to).llen(key),
      `Reading the logs of job ${id} in queue ${queue}`,
    );
    return { logs: asc ? (logs as string[]) : (logs as string[]).reverse(), count: Number(count) };
  }

  async scheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    await this.ready(queue);
    return toScheduler(id, await this.client.hgetall(keyOf.scheduler(queue, id)));
  }

  async schedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    await this.ready(queue);
    const key = keyOf.schedulers(queue);
    const ids = (
      asc ? await this.client.zrange(key, start, String(end)) : await this.client.zrange(key, start, String(end), 'REV')
    ) as string[];
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(keyOf.scheduler(queue, id));
    const hashes = await execAll(pipeline, `Reading the schedulers of queue ${queue}`);
    return ids.flatMap((id, i) => toScheduler(id, hashes[i] as Record<string, string>) ?? []);
  }

  async countSchedulers(queue: string): Promise<number> {
    await this.ready(queue);
    return this.client.zcard(keyOf.schedulers(queue));
  }

  async dedupJobId(queue: string, dedupId: string): Promise<string | undefined> {
    await this.ready(queue);
    return (await this.client.get(keyOf.dedup(queue, dedupId))) ?? undefined;
  }

  async globalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    await this.ready(queue);
    const [concurrency, max, duration] = await this.client.hmget(keyOf.meta(queue), 'concurrency', 'max', 'duration');
    const out: { concurrency?: number; rateLimit?: { max: number; duration: number } } = {};
    if (concurrency !== null) out.concurrency = Number(concurrency);
    if (max !== null && duration !== null) out.rateLimit = { max: Number(max), duration: Number(duration) };
    return out;
  }

  async metrics(queue: string, type: 'completed' | 'failed', _now: number): Promise<MetricsRead> {
    await this.ready(queue);
    const replies = await execAll(
      this.client
        .multi()
        .hmget(keyOf.metrics(queue, type), 'count', 'maxDataPoints', 'lastMinute', 'firstMinute')
        .hgetall(keyOf.metricsData(queue, type)),
      `Reading the metrics of queue ${queue}`,
    );
    const [count, points, last, first] = (replies[0] as (string | null)[]).map((v) =>
      v === null ? Number.NaN : Number(v),
    );
    const perMinute = replies[1] as Record<string, string>;
    const minutes = Object.keys(perMinute).map(Number);
    if (!count || minutes.length === 0) return { count: count || 0, data: [], prevCount: 0, prevTS: 0 };
    const byMinute = new Map(minutes.map((m) => [m, Number(perMinute[String(m)])]));
    // firstMinute is absent where older Docket recorded: the oldest kept minute stands in.
    return metricPoints(count, byMinute, last, Number.isNaN(first) ? Math.min(...minutes) : first, points);
  }

  async countsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    await this.ready(queue);
    if (priorities.length === 0) return {};
    const pipeline = this.client.pipeline();
    for (const p of priorities) {
      if (p === 0) pipeline.llen(`${queue}:wait`);
      else pipeline.zcount(`${queue}:prioritized`, p * 2 ** 32, `(${(p + 1) * 2 ** 32}`);
    }
    const counts = await execAll(pipeline, `Counting the jobs per priority of queue ${queue}`);
    return Object.fromEntries(priorities.map((p, i) => [String(p), Number(counts[i])]));
  }

  async lastEventId(queue: string): Promise<string> {
    await this.ready(queue);
    const newest = await this.client.xrevrange(keyOf.events(queue), '+', '-', 'COUNT', 1);
    return newest.length > 0 ? newest[0][0] : '0';
  }

  /** Store.countFinishedPerMinute: a ZCOUNT per minute of the finished set (scored by finish time). */
  async finishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    await this.ready(queue);
    const pipeline = this.client.pipeline();
    for (let m = 0; m < minutes; m++) {
      pipeline.zcount(`${queue}:${type}`, since + m * 60_000, `(${since + (m + 1) * 60_000}`);
    }
    const counts = await execAll(pipeline, `Counting the ${type} jobs per minute of queue ${queue}`);
    return counts.map(Number);
  }

  /** Store.getMinuteCounts: the `<q>:metrics:minutes` hash, fields `<minute>:c|f|s` (includes/base.lua countMinute). */
  async minuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]> {
    await this.ready(queue);
    const fields = await this.client.hgetall(keyOf.minutes(queue));
    return toMinuteCounts(
      Object.entries(fields).map(([field, n]) => {
        const [minute, kind] = field.split(':');
        return { minute: Number(minute), kind, n: Number(n) };
      }),
      sinceMinute,
    );
  }

  /** Names (without the prefix) of the Docket queues stored under `prefix` (on every master of a Cluster), sorted. */
  async queueNames(prefix: string): Promise<string[]> {
    const head = `${prefix}:`;
    const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}*:meta`;
    const names = new Set<string>();
    await scanAll(this.client, pattern, async (keys) => {
      for (const key of keys) {
        const name = key.slice(head.length, -':meta'.length);
        if (name && !name.includes(':') && (await this.client.hexists(key, 'docket-version'))) names.add(name);
      }
      return false;
    });
    return [...names].sort();
  }
}
