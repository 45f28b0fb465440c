import { moveError } from '../errors.js';
import { toJson } from '../options/validate.js';
import { refuseIfStopped } from './stopped.js';
import { idOf, type JobFields, type JobProgress } from './types.js';

// A job's progress and data as its processor changes them. As BullMQ's job.ts, the Job object takes
// the new value at once, before the store write: a processor that does not await the call reads back
// what it set. A refused write rejects and leaves the value set, as BullMQ does not roll it back;
// only a stopped attempt's call (job/stopped.ts) changes nothing.

export async function updateProgress(job: JobFields, progress: JobProgress): Promise<void> {
  refuseIfStopped(job, 'updateProgress');
  job.progress = progress;
  const { store, qualifiedName } = job.queue;
  const code = await store.updateProgress(qualifiedName, idOf(job), toJson(progress, 'progress'));
  if (code !== 0) throw moveError(code, idOf(job), 'updateProgress');
  job.queue.emit('progress', job, progress);
}

export async function updateData<DataType>(job: JobFields<DataType>, data: DataType): Promise<void> {
  refuseIfStopped(job, 'updateData');
  job.data = data;
  const code = await job.queue.store.updateData(job.queue.qualifiedName, idOf(job), toJson(data, 'data'));
  if (code !== 0) throw moveError(code, idOf(job), 'updateData');
}
