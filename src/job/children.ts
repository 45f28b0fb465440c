import { moveError } from '../errors.js';
import {
  type DependencyCounts,
  type DependencyFilter,
  dependenciesView,
  dependencyCounts,
  type JobDependencies,
} from '../job-dependencies.js';
import type { Dependencies } from '../store/store.js';
import { idOf, type JobFields } from './types.js';

// A parent's view of its children, and a child's link to its parent.

function dependenciesOf(job: JobFields): Promise<Dependencies> {
  return job.queue.store.getDependencies(job.queue.qualifiedName, idOf(job));
}

export async function childrenValues<T>(job: JobFields): Promise<Record<string, T>> {
  const deps = await dependenciesOf(job);
  return Object.fromEntries(Object.entries(deps.processed).map(([k, v]) => [k, JSON.parse(v) as T]));
}

/** BullMQ's getFailedChildrenValues reads the same list as getIgnoredChildrenFailures (its `:failed` hash). */
export async function failedChildren(job: JobFields): Promise<Record<string, string>> {
  return (await dependenciesOf(job)).ignored;
}

export async function ignoredChildren(job: JobFields): Promise<Record<string, string>> {
  return (await dependenciesOf(job)).ignored;
}

export async function dependencies(job: JobFields, opts: DependencyFilter): Promise<JobDependencies> {
  return dependenciesView(await dependenciesOf(job), opts);
}

export async function countDependencies(job: JobFields, opts: DependencyFilter): Promise<DependencyCounts> {
  return dependencyCounts(await dependenciesOf(job), opts);
}

/**
 * Unlinks the job from its parent (the parent runs when nothing else is pending): true when it was a
 * pending child; rejects as BullMQ when the job or its parent no longer exists.
 */
export async function unlinkFromParent(job: JobFields): Promise<boolean> {
  const id = idOf(job);
  const code = await job.queue.store.removeChildDependency(job.queue.qualifiedName, id, Date.now());
  if (code === -1) throw moveError(-1, id, 'removeChildDependency');
  if (code === -5) throw moveError(-5, job.parentKey ?? '', 'removeChildDependency');
  if (code !== 0) return false;
  job.parent = undefined;
  job.parentKey = undefined;
  return true;
}

export async function removeUnprocessedChildren(job: JobFields): Promise<void> {
  await job.queue.store.removeUnprocessedChildren(job.queue.qualifiedName, idOf(job), Date.now());
}
