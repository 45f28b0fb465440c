#!/usr/bin/env node
/**
 * `docket`: inspect and operate Docket queues from a shell. `runCli(argv, io)` is the whole CLI,
 * in-process (tests call it); the bottom of this file wires it to the real process.
 */
import { realpathSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ValidationError } from '../errors.js';
import { registerAdmin } from './admin.js';
import { aborted, CliError, type CliIo, contextOf, UsageError } from './context.js';
import { positiveInt, registerInspect } from './inspect.js';
import { registerRun } from './run.js';

export type { CliIo } from './context.js';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

function buildProgram(io: CliIo): Command {
  const program = new Command('docket')
    .description('Inspect and operate Docket job queues (SQLite or Redis).')
    .option('--url <url>', 'store: sqlite:<path> or redis://… (default: $DOCKET_URL, else sqlite:./docket.db)')
    .option('--prefix <prefix>', 'key prefix / namespace of the queues', 'bull')
    .option('--json', 'print JSON for scripts instead of tables (one JSON document per line)')
    .option('--create', 'create the SQLite file when it does not exist (otherwise refused)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
    })
    .showSuggestionAfterError();
  program.addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 error (job not found, refused, store unreachable), 2 usage (bad command or option).',
  );
  registerInspect(program, io);
  registerAdmin(program, io);
  registerRun(program, io);
  program
    .command('dashboard')
    .description('serve the web dashboard (JSON API under /api, Prometheus metrics at /metrics)')
    .option('-p, --port <port>', 'port to listen on', '3000')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--read-only', 'no actions: look, do not touch')
    .option('--basic-auth <user:password>', 'require HTTP basic auth (or set DOCKET_DASHBOARD_AUTH)')
    .option('--queues <names...>', 'queues to show (default: every queue the store lists)')
    .action(
      async (
        opts: { port: string; host: string; readOnly?: boolean; basicAuth?: string; queues?: string[] },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd, io);
        const port = positiveInt(opts.port, '--port', true);
        await ctx.openStore();
        const auth = opts.basicAuth ?? (io.env ?? process.env).DOCKET_DASHBOARD_AUTH;
        let basicAuth: { username: string; password: string } | undefined;
        if (auth) {
          const at = auth.indexOf(':');
          if (at < 1) throw new UsageError('--basic-auth must be user:password');
          basicAuth = { username: auth.slice(0, at), password: auth.slice(at + 1) };
        }
        const { startDashboard } = await import('../dashboard/server.js');
        const server = await startDashboard({
          connection: ctx.connection,
          prefix: ctx.prefix,
          readOnly: opts.readOnly ?? false,
          basicAuth,
          queues: opts.queues,
          port,
          host: opts.host,
        });
        ctx.print({ url: server.url, store: ctx.store.text }, () => `dashboard on ${server.url} (interrupt to stop)`);
        await aborted(io.signal);
        await server.close();
      },
    );
  return program;
}

/** Runs the CLI on `argv` (arguments only, no `node`/script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const message = err instanceof Error ? err.message : String(err);
    io.err(`error: ${message}\n`);
    if (err instanceof UsageError || err instanceof ValidationError) return EXIT.usage;
    if (!(err instanceof CliError) && (io.env ?? process.env).DOCKET_DEBUG && err instanceof Error && err.stack) {
      io.err(`${err.stack}\n`);
    }
    return EXIT.error;
  }
}

/** The real process: stdout/stderr, a terminal prompt, and Ctrl-C to stop long-running commands. */
async function main(): Promise<void> {
  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIo = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    signal: stop.signal,
    tty: process.stdout.isTTY ? process.stdout : undefined,
    confirm: process.stdin.isTTY
      ? async (question) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question(question)).trim());
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
