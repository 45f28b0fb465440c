import { type Command, Option } from 'commander';
import { aborted, CliError, type CliIo, type Ctx, contextOf, UsageError } from './context.js';
import { humanDuration, parseDuration, table, timestamp } from './format.js';
import { describeJob, type JobDetail, listJobs, STATES, toState } from './job-view.js';
import { LIST_UNSUPPORTED, listQueues } from './list-queues.js';

const COUNT_COLUMNS = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

export interface QueueRow {
  queue: string;
  paused: boolean;
  counts: Record<string, number>;
}

/** Counts of the named queues, or of every queue the store lists. */
async function queueRows(ctx: Ctx, names: string[]): Promise<QueueRow[]> {
  if (names.length === 0) {
    const listed = await ctx.withStore((store) => listQueues(store, ctx.prefix));
    if (!listed) throw new CliError(LIST_UNSUPPORTED);
    names = listed;
  }
  return Promise.all(
    names.map((name) =>
      ctx.withQueue(name, async (q) => {
        const [counts, paused] = await Promise.all([q.getJobCounts(...COUNT_COLUMNS), q.isPaused()]);
        return { queue: name, paused, counts };
      }),
    ),
  );
}

function queuesTable(rows: QueueRow[]): string {
  if (rows.length === 0) return 'no queues';
  return table(
    rows.map((r) => ({ queue: r.queue, paused: r.paused ? 'yes' : 'no', ...r.counts })),
    ['queue', 'paused', ...COUNT_COLUMNS],
  );
}

function jobText(d: JobDetail): string {
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const lines = [
    `job ${d.id} (${d.name}) — ${d.state}`,
    `  attempts     ${d.attemptsMade} made, ${d.attemptsStarted} started, stalled ${d.stalledCounter}`,
    `  created      ${timestamp(d.timestamp)}`,
    `  processed    ${timestamp(d.processedOn)}${d.processedBy ? ` by ${d.processedBy}` : ''}`,
    `  finished     ${timestamp(d.finishedOn)}${d.processedOn && d.finishedOn ? ` (took ${humanDuration(d.finishedOn - d.processedOn)})` : ''}`,
    `  progress     ${JSON.stringify(d.progress)}`,
  ];
  if (d.delay) lines.push(`  delay        ${humanDuration(d.delay)}`);
  if (d.priority) lines.push(`  priority     ${d.priority}`);
  if (d.parent) lines.push(`  parent       ${d.parent.queueKey}:${d.parent.id}`);
  lines.push('', 'data:', json(d.data), '', 'opts:', json(d.opts));
  if (d.state === 'completed') lines.push('', 'return value:', json(d.returnvalue));
  if (d.failedReason) lines.push('', `failed reason: ${d.failedReason}`);
  if (d.stacktrace.length > 0) lines.push('', 'stack traces:', ...d.stacktrace.map((s, i) => `#${i + 1} ${s}`));
  const steps = Object.entries(d.steps);
  if (steps.length > 0) {
    lines.push('', `steps (${steps.length} recorded):`, ...steps.map(([id, v]) => `  ${id}  ${JSON.stringify(v)}`));
  }
  if (d.logs.length > 0) lines.push('', `logs (${d.logs.length}):`, ...d.logs.map((l) => `  ${l}`));
  if (d.children.length > 0) {
    lines.push('', `children (${d.children.length}):`);
    for (const c of d.children)
      lines.push(`  ${c.status.padEnd(12)} ${c.key}${c.value !== undefined ? `  ${JSON.stringify(c.value)}` : ''}`);
  }
  return lines.join('\n');
}

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('queues')
    .description('every queue (or the named ones) with its job counts per state')
    .argument('[names...]', 'queue names (default: every queue in the store)')
    .option('-w, --watch', 'refresh in place until interrupted')
    .option('--interval <duration>', 'refresh interval with --watch', '1s')
    .action(async (names: string[], opts: { watch?: boolean; interval: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const interval = parseDuration(opts.interval);
      if (!interval) throw new UsageError(`--interval "${opts.interval}" is not a duration (e.g. 500ms, 2s)`);
      const show = async () => {
        const rows = await queueRows(ctx, names);
        if (ctx.json) io.out(`${JSON.stringify(rows)}\n`);
        // Refreshing in place clears the screen: the store line goes with the table.
        else io.out(`${opts.watch && io.tty ? `\x1b[H\x1b[2Jstore: ${ctx.store.text}\n` : ''}${queuesTable(rows)}\n`);
      };
      await show();
      if (!opts.watch) return;
      const stop = aborted(io.signal);
      for (;;) {
        const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), interval).unref());
        if ((await Promise.race([tick, stop.then(() => 'stop' as const)])) === 'stop') return;
        if (!ctx.json && !io.tty) io.out('\n');
        await show();
      }
    });

  program
    .command('jobs')
    .description('jobs of a queue, newest first, as a table')
    .argument('<queue>', 'queue name')
    .addOption(
      new Option('-s, --state <state>', 'only jobs in this state (default: every state)').choices([...STATES, 'wait']),
    )
    .option('-l, --limit <n>', 'at most n jobs', '20')
    .option('--offset <n>', 'skip the first n jobs', '0')
    .action(async (queueName: string, opts: { state?: string; limit: string; offset: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const limit = positiveInt(opts.limit, '--limit');
      const offset = positiveInt(opts.offset, '--offset', true);
      const state = opts.state ? toState(opts.state) : undefined;
      const jobs = await ctx.withQueue(queueName, (q) => listJobs(q, state, offset, limit));
      ctx.print(jobs, () => {
        if (jobs.length === 0) return `no ${state ?? ''} jobs in ${queueName}`.replace('  ', ' ');
        const rows = jobs.map((j) => ({
          ...j,
          attempts: j.attemptsMade,
          created: timestamp(j.timestamp),
          finished: timestamp(j.finishedOn),
          info: j.failedReason ?? (j.progress ? `progress ${JSON.stringify(j.progress)}` : ''),
        }));
        return table(rows, ['id', 'name', 'state', 'attempts', 'created', 'finished', 'info']);
      });
    });

  program
    .command('job')
    .description('one job in full: data, options, attempts, failure, stack traces, logs, children')
    .argument('<queue>', 'queue name')
    .argument('<id>', 'job id')
    .action(async (queueName: string, id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const detail = await ctx.withQueue(queueName, async (q) => {
        const job = await q.getJob(id);
        if (!job) throw new CliError(`job ${id} not found in queue ${queueName}`);
        return describeJob(q, job);
      });
      ctx.print(detail, () => jobText(detail));
    });
}

export function positiveInt(text: string, flag: string, zeroOk = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) {
    throw new UsageError(`${flag} must be an integer ${zeroOk ? '>= 0' : '>= 1'} (got "${text}")`);
  }
  return n;
}
