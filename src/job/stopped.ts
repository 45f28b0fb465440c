import { moveError } from '../errors.js';
import { idOf, type JobFields } from './types.js';

/**
 * Job objects whose attempt the worker stopped (timed out or cancelled, issue 21): the processor
 * may still hold one and call it after the worker moved on. The store refuses lock-checked moves
 * by themselves (the failing move took the lock away), but updateData, updateProgress and the moves
 * called without a token check no lock: an abandoned attempt must not change a job that may be
 * running again elsewhere, so its Job object refuses them here, with the store's text for a lost lock.
 * A WeakSet rather than a field: a Job is made per fetched job, and its shape stays BullMQ's.
 */
const stopped = new WeakSet<object>();

export function markStopped(job: object): void {
  stopped.add(job);
}

export function isStopped(job: object): boolean {
  return stopped.has(job);
}

/** Throws "Missing lock for job <id>. <command>" when `job`'s attempt was stopped. */
export function refuseIfStopped(job: JobFields, command: string): void {
  if (stopped.has(job)) throw moveError(-2, idOf(job), command);
}
