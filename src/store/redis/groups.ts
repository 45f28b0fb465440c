import type { GroupChange, GroupInfo } from '../store.js';
import type { RedisConnection } from './connection.js';
import { queuePrefix } from './keys.js';

type RawGroup = [string, number, number, ...(string | null)[]];

function toInfo(r: RawGroup): GroupInfo {
  const [id, waiting, active, paused, concurrency, max, duration, limitedUntil, windowEnd, windowCount] = r;
  const info: GroupInfo = {
    id,
    waiting: Number(waiting),
    active: Number(active),
    paused: !!paused,
    limitedUntil: Number(limitedUntil ?? 0),
    windowEnd: Number(windowEnd ?? 0),
    windowCount: Number(windowCount ?? 0),
  };
  if (concurrency) info.concurrency = Number(concurrency);
  if (max && duration) info.limit = { max: Number(max), duration: Number(duration) };
  return info;
}

/** Groups' settings and getters on Redis (scripts/updateGroup.lua, scripts/getGroups.lua). */
export class RedisGroups {
  constructor(private readonly conn: RedisConnection) {}

  async update(queue: string, id: string, change: GroupChange): Promise<boolean> {
    return (await this.conn.run('updateGroup', queue, [id, JSON.stringify(change)])) === 1;
  }

  async get(queue: string, id: string): Promise<GroupInfo | undefined> {
    const rows = (await this.conn.run('getGroups', queue, ['one', id])) as RawGroup[];
    return rows[0] ? toInfo(rows[0]) : undefined;
  }

  async list(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    const rows = (await this.conn.run('getGroups', queue, ['range', start, end])) as RawGroup[];
    return rows.map(toInfo);
  }

  /** One ZRANGE: the group's waiting set is in run order (score priority · 2^32 ± sequence). */
  async jobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    await this.conn.queueReady(queue);
    return this.conn.client.zrange(`${queuePrefix(queue)}gr:w:${id}`, start, String(end));
  }
}
