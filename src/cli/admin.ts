import { type Command, Option } from 'commander';
import type { JobsOptions } from '../options/job-options.js';
import { CliError, type CliIo, contextOf, parseJsonOption, UsageError } from './context.js';
import { parseDuration } from './format.js';
import { positiveInt } from './inspect.js';

function duration(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} "${text}" is not a duration (e.g. 500ms, 30s, 5m, 1h, 2d)`);
  return ms;
}

/** Commands that change a queue: retry, promote, remove, cancel, clean, pause, resume, drain, obliterate, add. */
export function registerAdmin(program: Command, io: CliIo): void {
  program
    .command('retry')
    .description('move failed (or completed) jobs back to waiting: the given ids, or all of them')
    .argument('<queue>', 'queue name')
    .addOption(
      new Option('-s, --state <state>', 'state to retry from').choices(['failed', 'completed']).default('failed'),
    )
    .option('--id <ids...>', 'only these job ids')
    .action(async (queueName: string, opts: { state: 'failed' | 'completed'; id?: string[] }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const retried = await ctx.withQueue(queueName, async (q) => {
        if (opts.id) {
          for (const id of opts.id) {
            const job = await q.getJob(id);
            if (!job) throw new CliError(`job ${id} not found in queue ${queueName}`);
            await job.retry(opts.state);
          }
          return opts.id.length;
        }
        const before = (await q.getJobCounts(opts.state))[opts.state] ?? 0;
        await q.retryJobs({ state: opts.state });
        return before;
      });
      ctx.print({ retried }, () => `retried ${retried} ${opts.state} job(s) of ${queueName}`);
    });

  program
    .command('promote')
    .description('move delayed jobs to waiting now: the given ids, or all of them')
    .argument('<queue>', 'queue name')
    .option('--id <ids...>', 'only these job ids')
    .action(async (queueName: string, opts: { id?: string[] }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const promoted = await ctx.withQueue(queueName, async (q) => {
        if (opts.id) {
          for (const id of opts.id) {
            const job = await q.getJob(id);
            if (!job) throw new CliError(`job ${id} not found in queue ${queueName}`);
            await job.promote();
          }
          return opts.id.length;
        }
        const before = await q.getDelayedCount();
        await q.promoteJobs();
        return before;
      });
      ctx.print({ promoted }, () => `promoted ${promoted} delayed job(s) of ${queueName}`);
    });

  program
    .command('remove')
    .description('remove jobs (and their logs) by id')
    .argument('<queue>', 'queue name')
    .argument('<ids...>', 'job ids')
    .action(async (queueName: string, ids: string[], _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { removed, missing } = await ctx.withQueue(queueName, async (q) => {
        const out = { removed: [] as string[], missing: [] as string[] };
        for (const id of ids) ((await q.remove(id)) ? out.removed : out.missing).push(id);
        return out;
      });
      ctx.print({ removed, missing }, () =>
        [
          `removed ${removed.length} job(s) of ${queueName}`,
          ...(missing.length ? [`not found: ${missing.join(' ')}`] : []),
        ].join('\n'),
      );
      if (missing.length > 0 && removed.length === 0)
        throw new CliError(`no such job in ${queueName}: ${missing.join(' ')}`);
    });

  program
    .command('cancel')
    .description('cancel jobs: each fails at once without retry; an active one is stopped in its worker')
    .argument('<queue>', 'queue name')
    .argument('<ids...>', 'job ids')
    .option('-r, --reason <text>', 'why (stored in failedReason as "Job cancelled: <text>")')
    .action(async (queueName: string, ids: string[], opts: { reason?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { cancelled, skipped } = await ctx.withQueue(queueName, async (q) => {
        const out = { cancelled: [] as string[], skipped: [] as string[] };
        for (const id of ids) ((await q.cancelJob(id, opts.reason)) ? out.cancelled : out.skipped).push(id);
        return out;
      });
      ctx.print({ cancelled, skipped }, () =>
        [
          `cancelled ${cancelled.length} job(s) of ${queueName}`,
          ...(skipped.length ? [`not found or finished already: ${skipped.join(' ')}`] : []),
        ].join('\n'),
      );
      if (skipped.length > 0 && cancelled.length === 0)
        throw new CliError(`nothing to cancel in ${queueName}: ${skipped.join(' ')} not found or finished already`);
    });

  program
    .command('clean')
    .description('remove jobs of a state older than the grace period')
    .argument('<queue>', 'queue name')
    .addOption(
      new Option('-s, --state <state>', 'state to clean')
        .choices(['completed', 'failed', 'delayed', 'waiting', 'wait', 'prioritized', 'paused', 'active'])
        .default('completed'),
    )
    .option('-g, --grace <duration>', 'keep jobs younger than this (e.g. 1h)', '0')
    .option('-l, --limit <n>', 'at most n jobs', '100000')
    .action(async (queueName: string, opts: { state: string; grace: string; limit: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const grace = duration(opts.grace, '--grace');
      const limit = positiveInt(opts.limit, '--limit');
      const state = opts.state === 'waiting' ? 'wait' : opts.state;
      const ids = await ctx.withQueue(queueName, (q) => q.clean(grace, limit, state));
      ctx.print({ cleaned: ids.length, ids }, () => `cleaned ${ids.length} ${opts.state} job(s) of ${queueName}`);
    });

  for (const [verb, text] of [
    ['pause', 'stop workers from taking new jobs of a queue'],
    ['resume', 'let workers take jobs of a paused queue again'],
  ] as const) {
    program
      .command(verb)
      .description(text)
      .argument('<queue>', 'queue name')
      .action(async (queueName: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const paused = await ctx.withQueue(queueName, async (q) => {
          await (verb === 'pause' ? q.pause() : q.resume());
          return q.isPaused();
        });
        ctx.print({ queue: queueName, paused }, () => `${queueName} ${paused ? 'paused' : 'resumed'}`);
      });
  }

  program
    .command('drain')
    .description('remove every waiting job (and, with --delayed, delayed ones); active and finished jobs stay')
    .argument('<queue>', 'queue name')
    .option('--delayed', 'also remove delayed jobs')
    .action(async (queueName: string, opts: { delayed?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      await ctx.withQueue(queueName, (q) => q.drain(opts.delayed ?? false));
      ctx.print({ queue: queueName, drained: true }, () => `drained ${queueName}`);
    });

  program
    .command('obliterate')
    .description('remove a queue and all its jobs (asks first unless --yes)')
    .argument('<queue>', 'queue name')
    .option('--force', 'even while jobs are active')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (queueName: string, opts: { force?: boolean; yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (!opts.yes) {
        if (!io.confirm) throw new CliError('obliterate needs confirmation: pass --yes when not on a terminal');
        if (!(await io.confirm(`Obliterate queue "${queueName}" and all its jobs? [y/N] `))) {
          throw new CliError('not confirmed: nothing was removed');
        }
      }
      await ctx.withQueue(queueName, (q) => q.obliterate({ force: opts.force ?? false }));
      ctx.print({ queue: queueName, obliterated: true }, () => `obliterated ${queueName}`);
    });

  program
    .command('add')
    .description('add a job (for scripts)')
    .argument('<queue>', 'queue name')
    .argument('<name>', 'job name')
    .option('-d, --data <json>', 'job data as JSON', '{}')
    .option('--delay <duration>', 'run after this delay (e.g. 30s)')
    .option('--priority <n>', 'priority (1 runs first)')
    .option('--attempts <n>', 'total tries')
    .option('--job-id <id>', 'custom job id')
    .option('--opts <json>', 'further job options as JSON')
    .action(
      async (
        queueName: string,
        name: string,
        opts: { data: string; delay?: string; priority?: string; attempts?: string; jobId?: string; opts?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd, io);
        const data = parseJsonOption(opts.data, '--data');
        const extra = opts.opts ? parseJsonOption(opts.opts, '--opts') : {};
        if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
          throw new UsageError('--opts must be a JSON object');
        }
        const jobOpts: JobsOptions = { ...(extra as JobsOptions) };
        if (opts.delay !== undefined) jobOpts.delay = duration(opts.delay, '--delay');
        if (opts.priority !== undefined) jobOpts.priority = positiveInt(opts.priority, '--priority', true);
        if (opts.attempts !== undefined) jobOpts.attempts = positiveInt(opts.attempts, '--attempts');
        if (opts.jobId !== undefined) jobOpts.jobId = opts.jobId;
        const job = await ctx.withQueue(queueName, (q) => q.add(name, data, jobOpts));
        ctx.print({ id: job.id, queue: queueName, name }, () => String(job.id));
      },
    );
}
