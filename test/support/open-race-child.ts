// A process for the SQLite open-race test: loads Docket, says 'ready', then for each { file, queue }
// it is sent opens a Queue, a Worker and a QueueEvents on that file at once, adds a job, waits for a
// worker (in any process) to complete it, closes everything and reports what went wrong, if anything.
import { Queue, QueueEvents, Worker } from '../../src/index.js';

interface Round {
  file: string;
  queue: string;
}

export interface RoundReport {
  pid: number;
  errors: string[];
}

async function round({ file, queue: name }: Round): Promise<RoundReport> {
  const errors: string[] = [];
  const record = (where: string) => (err: unknown) =>
    errors.push(`${where}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
  const connection = `sqlite:${file}`;
  const opened: { close(): Promise<void> }[] = [];
  try {
    // The constructors run in the same turn in every process: any SQLITE_BUSY would surface here.
    const queue = new Queue(name, { connection });
    opened.push(queue);
    const worker = new Worker(name, async () => process.pid, { connection, drainDelay: 1 });
    opened.push(worker);
    const events = new QueueEvents(name, { connection });
    opened.push(events);
    for (const [label, x] of [
      ['queue', queue],
      ['worker', worker],
      ['events', events],
    ] as const)
      x.on('error', record(`${label} error event`));
    const job = await queue.add('j', { pid: process.pid });
    await job.waitUntilFinished(events, 60_000);
  } catch (err) {
    record('call')(err);
  } finally {
    await Promise.all(opened.map((x) => x.close().catch(record('close'))));
  }
  return { pid: process.pid, errors };
}

process.on('message', (msg: Round | 'close') => {
  if (msg === 'close') process.exit(0);
  round(msg).then(
    (report) => process.send?.(report),
    (err) => process.send?.({ pid: process.pid, errors: [`round: ${(err as Error).message}`] }),
  );
});
process.send?.('ready');
