import { ValidationError } from '../errors.js';
import type { Job } from '../job.js';
import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import type { WorkerHost } from './host.js';
import type { WorkerSpans } from './spans.js';

/** Worker.rateLimit: no worker of the queue takes a job for `expireTimeMs`, in the worker's `rateLimit` span. */
export function rateLimitQueue(
  host: WorkerHost,
  spans: WorkerSpans,
  ready: () => Promise<unknown>,
  expireTimeMs: number,
): Promise<void> {
  return spans.internal('rateLimit', async (span) => {
    span?.setAttributes({ [A.WorkerRateLimit]: expireTimeMs });
    await ready();
    await host.store.rateLimit(host.qualifiedName, expireTimeMs, Date.now());
  });
}

/** Worker.rateLimitGroup (BullMQ Pro): no job of `job`'s group starts for `expireTimeMs`. */
export async function rateLimitGroup(
  host: WorkerHost,
  queueName: string,
  ready: () => Promise<unknown>,
  job: Job,
  expireTimeMs: number,
): Promise<void> {
  const group = (job.opts as { group?: { id: string | number } }).group;
  if (!group) throw new ValidationError(`Job ${job.id} of queue ${queueName} has no group to rate limit`);
  await ready();
  await host.store.updateGroup(host.qualifiedName, String(group.id), { limitedUntil: Date.now() + expireTimeMs });
}
