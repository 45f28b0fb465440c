// A processor module for `docket run` (README "CLI and dashboard"): `npx docket run examples/email-worker.mjs`
// works on the `emails` queue until interrupted.
export const queueName = 'emails';
export const concurrency = 4;

export default async function sendEmail(job) {
  await job.updateProgress(50);
  return `sent to ${job.data.to ?? 'nobody'}`;
}
