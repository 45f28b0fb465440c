import type { Queue } from '../queue.js';
import type { QueueRegistry } from './registry.js';

/** Upper bounds (seconds) of the processing-duration histogram. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Finished jobs read per queue and state for the per-minute rates and the histogram. */
const SAMPLE = 1000;

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * Prometheus text exposition (format 0.0.4) of every queue the registry knows:
 * counts per state, paused, jobs finished in the last minute, and a histogram of processing
 * durations (`finishedOn - processedOn`) of the newest retained finished jobs. Jobs removed on
 * completion (`removeOnComplete`) are not seen by the last two: they are a sample, not a counter.
 */
export async function renderMetrics(registry: QueueRegistry, now = Date.now()): Promise<string> {
  const { names } = await registry.names();
  const out: string[] = ['# HELP docket_queue_jobs Jobs in the queue per state.', '# TYPE docket_queue_jobs gauge'];
  const paused: string[] = [
    '# HELP docket_queue_paused 1 when the queue is paused.',
    '# TYPE docket_queue_paused gauge',
  ];
  const perMinute: string[] = [
    '# HELP docket_queue_finished_last_minute Retained jobs that finished in the last 60 s, by outcome.',
    '# TYPE docket_queue_finished_last_minute gauge',
  ];
  const histogram: string[] = [
    `# HELP docket_job_processing_seconds Processing time (finishedOn - processedOn) of the newest ${SAMPLE} retained finished jobs per outcome.`,
    '# TYPE docket_job_processing_seconds histogram',
  ];
  for (const name of names) {
    const queue = await registry.get(name);
    const q = `queue="${esc(name)}"`;
    const counts = await queue.getJobCounts(...STATES);
    for (const state of STATES) out.push(`docket_queue_jobs{${q},state="${state}"} ${counts[state] ?? 0}`);
    paused.push(`docket_queue_paused{${q}} ${(await queue.isPaused()) ? 1 : 0}`);
    for (const status of ['completed', 'failed'] as const) {
      const durations = await finishedDurations(queue, status, now);
      perMinute.push(`docket_queue_finished_last_minute{${q},status="${status}"} ${durations.lastMinute}`);
      const labels = `${q},status="${status}"`;
      let sum = 0;
      for (const d of durations.seconds) sum += d;
      for (const le of DURATION_BUCKETS) {
        histogram.push(
          `docket_job_processing_seconds_bucket{${labels},le="${le}"} ${durations.seconds.filter((d) => d <= le).length}`,
        );
      }
      histogram.push(`docket_job_processing_seconds_bucket{${labels},le="+Inf"} ${durations.seconds.length}`);
      histogram.push(`docket_job_processing_seconds_sum{${labels}} ${Number(sum.toFixed(6))}`);
      histogram.push(`docket_job_processing_seconds_count{${labels}} ${durations.seconds.length}`);
    }
  }
  return `${[...out, ...paused, ...perMinute, ...histogram].join('\n')}\n`;
}

async function finishedDurations(queue: Queue, status: 'completed' | 'failed', now: number) {
  const jobs = await queue.getJobs([status], 0, SAMPLE - 1, false);
  const seconds: number[] = [];
  let lastMinute = 0;
  for (const job of jobs) {
    if (job.finishedOn !== undefined && now - job.finishedOn <= 60_000) lastMinute++;
    if (job.processedOn !== undefined && job.finishedOn !== undefined && job.finishedOn >= job.processedOn) {
      seconds.push((job.finishedOn - job.processedOn) / 1000);
    }
  }
  return { seconds, lastMinute };
}
