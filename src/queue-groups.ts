import { ValidationError } from './errors.js';
import type { Job } from './job.js';
import { QueueLimits } from './queue-limits.js';
import type { GroupInfo } from './store/store.js';

/**
 * A group's state as `getGroupStatus` names it: `paused` (pauseGroup), `limited` (a manual limit
 * from rateLimitGroup, or its own rate window used up), `maxed` (as many active jobs as its own
 * concurrency), else `waiting`. Only the group's own settings are known here, not a worker's.
 */
export type GroupStatus = 'paused' | 'limited' | 'maxed' | 'waiting';

/** A group and how many jobs wait in it. */
export interface GroupSummary {
  id: string;
  count: number;
}

function statusOf(g: GroupInfo, now: number): GroupStatus {
  if (g.paused) return 'paused';
  if (g.limitedUntil > now) return 'limited';
  if (g.limit && g.windowEnd > now && g.windowCount >= g.limit.max) return 'limited';
  if (g.concurrency !== undefined && g.active >= g.concurrency) return 'maxed';
  return 'waiting';
}

function groupIdOf(groupId: string | number): string {
  if (!((typeof groupId === 'string' && groupId.length > 0) || Number.isSafeInteger(groupId))) {
    throw new ValidationError(`A group id must be a non-empty string (got ${String(groupId)})`);
  }
  return String(groupId);
}

/**
 * BullMQ Pro's group methods on a queue (issue 22): pausing groups, a group's own concurrency and
 * rate limit, and the group getters. Jobs join a group with `opts.group` (see docs/patterns/groups.md).
 */
export class QueueGroups<DataType = any, ResultType = any, NameType extends string = string> extends QueueLimits<
  DataType,
  ResultType,
  NameType
> {
  /** No worker starts a job of the group until resumed (running ones finish). False when already paused. */
  async pauseGroup(groupId: string | number): Promise<boolean> {
    await this.waitUntilReady();
    return this.store.updateGroup(this.qualifiedName, groupIdOf(groupId), { paused: true });
  }

  /** False when the group is not paused (or unknown). */
  async resumeGroup(groupId: string | number): Promise<boolean> {
    await this.waitUntilReady();
    return this.store.updateGroup(this.qualifiedName, groupIdOf(groupId), { paused: false });
  }

  /** The group's own concurrency, over the workers' `group.concurrency` (kept until changed). */
  async setGroupConcurrency(groupId: string | number, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ValidationError(`concurrency must be an integer >= 1 (got ${String(concurrency)})`);
    }
    await this.waitUntilReady();
    await this.store.updateGroup(this.qualifiedName, groupIdOf(groupId), { concurrency });
  }

  /** The group's own concurrency, or null when it has none (the workers' applies). */
  async getGroupConcurrency(groupId: string | number): Promise<number | null> {
    return (await this.groupInfo(groupId))?.concurrency ?? null;
  }

  /** The group's own rate limit, over the workers' `group.limit`: at most `max` starts per `duration` ms. */
  async setGroupRateLimit(groupId: string | number, max: number, duration: number): Promise<void> {
    if (!Number.isInteger(max) || max < 1 || !(duration > 0)) {
      throw new ValidationError(`a group rate limit needs max >= 1 and duration > 0 (got ${max}, ${duration})`);
    }
    await this.waitUntilReady();
    await this.store.updateGroup(this.qualifiedName, groupIdOf(groupId), { limit: { max, duration } });
  }

  /**
   * ms until the group may start jobs again: a manual limit's (rateLimitGroup) rest, or its rate
   * window's when `maxJobs` (else its own limit's max) starts were counted in it; 0 when not limited.
   */
  async getGroupRateLimitTtl(groupId: string | number, maxJobs?: number): Promise<number> {
    const g = await this.groupInfo(groupId);
    if (!g) return 0;
    const now = Date.now();
    if (g.limitedUntil > now) return g.limitedUntil - now;
    const max = maxJobs ?? g.limit?.max;
    if (max !== undefined && g.windowEnd > now && g.windowCount >= max) return g.windowEnd - now;
    return 0;
  }

  /** Ids and waiting-job counts of the groups, in the order first seen, sliced [start, end]. */
  async getGroups(start = 0, end = -1): Promise<GroupSummary[]> {
    await this.waitUntilReady();
    const groups = await this.store.getGroups(this.qualifiedName, start, end);
    return groups.map((g) => ({ id: g.id, count: g.waiting }));
  }

  async getGroupsCount(): Promise<number> {
    await this.waitUntilReady();
    return (await this.store.getGroups(this.qualifiedName, 0, -1)).length;
  }

  /** The group's waiting jobs in the order they will run, sliced [start, end]. */
  async getGroupJobs(groupId: string | number, start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    await this.waitUntilReady();
    const ids = await this.store.getGroupJobIds(this.qualifiedName, groupIdOf(groupId), start, end);
    const jobs = await Promise.all(ids.map((id) => this.getJob(id)));
    return jobs.filter((j): j is Job<DataType, ResultType, NameType> => j !== undefined);
  }

  /** Waiting jobs of all groups (prioritized within a group included), read `maxGroups` groups at a time. */
  async getGroupsJobsCount(maxGroups = 1000): Promise<number> {
    await this.waitUntilReady();
    let total = 0;
    for (let start = 0; ; start += maxGroups) {
      const page = await this.store.getGroups(this.qualifiedName, start, start + maxGroups - 1);
      for (const g of page) total += g.waiting;
      if (page.length < maxGroups) return total;
    }
  }

  async getGroupActiveCount(groupId: string | number): Promise<number> {
    return (await this.groupInfo(groupId))?.active ?? 0;
  }

  /** The group's status, or undefined for a group never seen. */
  async getGroupStatus(groupId: string | number): Promise<GroupStatus | undefined> {
    const g = await this.groupInfo(groupId);
    return g ? statusOf(g, Date.now()) : undefined;
  }

  /** Groups in `status`, in the order first seen, sliced [start, end] of the matches. */
  async getGroupsByStatus(status: GroupStatus, start = 0, end = -1): Promise<GroupSummary[]> {
    await this.waitUntilReady();
    const now = Date.now();
    const all = await this.store.getGroups(this.qualifiedName, 0, -1);
    const matching = all.filter((g) => statusOf(g, now) === status).map((g) => ({ id: g.id, count: g.waiting }));
    return matching.slice(start, end < 0 ? undefined : end + 1);
  }

  private async groupInfo(groupId: string | number): Promise<GroupInfo | undefined> {
    await this.waitUntilReady();
    return this.store.getGroup(this.qualifiedName, groupIdOf(groupId));
  }
}
