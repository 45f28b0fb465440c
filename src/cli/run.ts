import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Processor } from '../worker.js';
import { Worker } from '../worker.js';
import { aborted, CliError, type CliIo, contextOf, UsageError } from './context.js';
import { parseDuration } from './format.js';
import { positiveInt } from './inspect.js';

/** What a processor module may export. */
interface ProcessorModule {
  default?: Processor | { processor?: Processor; queueName?: string; concurrency?: number };
  processor?: Processor;
  queueName?: string;
  concurrency?: number;
}

/** Loads `file` and finds its processor: the default export, or the `processor` export. */
export async function loadProcessor(
  file: string,
): Promise<{ processor: Processor; queueName?: string; concurrency?: number }> {
  let mod: ProcessorModule;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as ProcessorModule;
  } catch (err) {
    throw new CliError(`cannot load ${file}: ${(err as Error).message}`);
  }
  const def = mod.default;
  const fromDefault = typeof def === 'object' && def !== null ? def : undefined;
  const processor =
    (typeof def === 'function' ? def : undefined) ?? mod.processor ?? fromDefault?.processor ?? undefined;
  if (typeof processor !== 'function') {
    throw new CliError(`${file} exports no processor: export a function as default or as \`processor\``);
  }
  return {
    processor,
    queueName: mod.queueName ?? fromDefault?.queueName,
    concurrency: mod.concurrency ?? fromDefault?.concurrency,
  };
}

interface Tally {
  completed: number;
  failed: number;
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run a worker with the processor exported by a module, showing completed/failed per second')
    .argument('<file>', 'module exporting a processor (default export or `processor`); .ts needs `node --import tsx`')
    .option('-q, --queue <name>', "queue to work on (default: the module's `queueName` export)")
    .option('-c, --concurrency <n>', "jobs at a time (default: the module's `concurrency` export, else 1)")
    .option('--interval <duration>', 'how often to report progress', '1s')
    .action(async (file: string, opts: { queue?: string; concurrency?: string; interval: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const interval = parseDuration(opts.interval);
      if (!interval) throw new UsageError(`--interval "${opts.interval}" is not a duration`);
      const loaded = await loadProcessor(file);
      const queueName = opts.queue ?? loaded.queueName;
      if (!queueName) throw new UsageError('name the queue: --queue <name> (or export `queueName` from the module)');
      const concurrency = opts.concurrency ? positiveInt(opts.concurrency, '--concurrency') : (loaded.concurrency ?? 1);
      // A worker waits for its store for as long as it takes: say now when it cannot be reached.
      await ctx.openStore();

      const total: Tally = { completed: 0, failed: 0 };
      const worker = new Worker(queueName, loaded.processor, {
        connection: ctx.connection,
        prefix: ctx.prefix,
        concurrency,
      });
      worker.on('completed', () => total.completed++);
      worker.on('failed', () => total.failed++);
      worker.on('error', (err) => io.err(`worker error: ${(err as Error).message}\n`));
      const started = Date.now();
      const reporter = progressReporter(ctx.json, io, queueName, total);
      try {
        await worker.waitUntilReady();
        if (!ctx.json && !io.tty) io.out(`worker on ${queueName} (concurrency ${concurrency}); interrupt to stop\n`);
        const timer = setInterval(() => reporter.tick(), interval);
        await aborted(io.signal);
        clearInterval(timer);
      } finally {
        await worker.close();
        reporter.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      ctx.print(
        { queue: queueName, ...total, seconds },
        () => `stopped: ${total.completed} completed, ${total.failed} failed in ${seconds.toFixed(1)}s`,
      );
    });
}

/** A cli-progress bar on a terminal; otherwise a line (or JSON line) per tick, only when something changed. */
function progressReporter(json: boolean, io: CliIo, queueName: string, total: Tally) {
  let last: Tally = { ...total };
  let lastAt = Date.now();
  const rates = () => {
    const now = Date.now();
    const secs = Math.max(0.001, (now - lastAt) / 1000);
    const r = { cps: (total.completed - last.completed) / secs, fps: (total.failed - last.failed) / secs };
    const changed = total.completed !== last.completed || total.failed !== last.failed;
    last = { ...total };
    lastAt = now;
    return { ...r, changed };
  };
  if (io.tty && !json) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.tty,
        format: `${queueName} {bar} {completed} completed ({cps}/s) | {failed} failed ({fps}/s)`,
        barsize: 20,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { completed: 0, failed: 0, cps: '0.0', fps: '0.0' });
    return {
      tick() {
        const r = rates();
        const done = total.completed + total.failed;
        bar.setTotal(Math.max(1, done));
        bar.update(done, { ...total, cps: r.cps.toFixed(1), fps: r.fps.toFixed(1) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    tick() {
      const r = rates();
      if (!r.changed) return;
      if (json) io.out(`${JSON.stringify({ ...total, completedPerSecond: r.cps, failedPerSecond: r.fps })}\n`);
      else
        io.out(
          `${total.completed} completed (${r.cps.toFixed(1)}/s), ${total.failed} failed (${r.fps.toFixed(1)}/s)\n`,
        );
    },
    stop() {},
  };
}
