import type { MetaStore, QueueMeta } from '../meta.js';
import type { RedisClient } from './cluster.js';
import { keyOf } from './keys.js';

// BullMQ keeps one limiter key: a counter that expires with the window, set full by a manual limit.
// Docket keeps both in `<q>:meta` (rate-limit-until; limiter-start/-count/-duration), so "the key
// exists" means: a manual limit or a started window is in force at `now` (the caller's clock).
const REMOVE_RATE_LIMIT = `
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'rate-limit-until', 'limiter-start', 'limiter-count', 'limiter-duration')
local manual = (tonumber(v[1]) or 0) > now
local start, count, duration = tonumber(v[2]), tonumber(v[3]) or 0, tonumber(v[4])
local window = start ~= nil and duration ~= nil and count > 0 and now >= start and now < start + duration
redis.call('HDEL', KEYS[1], 'rate-limit-until', 'limiter-start', 'limiter-count')
if manual or window then
  return 1
end
return 0`;

/** The meta facet on Redis: fields of `<q>:meta` (BullMQ's names `version`, `opts.maxLenEvents`). */
export class RedisMeta implements MetaStore {
  constructor(
    private readonly client: RedisClient,
    private readonly ready: (queue: string) => Promise<void>,
  ) {}

  async writeVersion(queue: string, version: string, maxLenEvents: number): Promise<void> {
    await this.ready(queue);
    await this.client.hset(keyOf.meta(queue), 'version', version, 'opts.maxLenEvents', maxLenEvents);
  }

  async read(queue: string): Promise<QueueMeta> {
    await this.ready(queue);
    const [version, maxLen, paused, concurrency, max, duration] = await this.client.hmget(
      keyOf.meta(queue),
      'version',
      'opts.maxLenEvents',
      'paused',
      'concurrency',
      'max',
      'duration',
    );
    return {
      ...(version ? { version } : {}),
      ...(maxLen ? { maxLenEvents: Number(maxLen) } : {}),
      paused: paused !== null,
      ...(concurrency ? { concurrency: Number(concurrency) } : {}),
      ...(max && duration ? { max: Number(max), duration: Number(duration) } : {}),
    };
  }

  async removeRateLimit(queue: string, now: number): Promise<number> {
    await this.ready(queue);
    return Number(await this.client.eval(REMOVE_RATE_LIMIT, 1, keyOf.meta(queue), now));
  }
}
