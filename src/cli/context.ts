import type { Command } from 'commander';
import { Queue } from '../queue.js';
import { DEFAULT_SQLITE_FILE } from '../store/connect.js';
import { describeStore, type StoreDescription, wouldCreateSqliteFile } from '../store/describe.js';
import type { Store } from '../store/store.js';

/** Where the CLI reads and writes: injected so tests run it in-process. */
export interface CliIo {
  /** Writes to stdout, as is. */
  out(text: string): void;
  /** Writes to stderr, as is. */
  err(text: string): void;
  /** Environment (for `DOCKET_URL`); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Asks a yes/no question; absent when there is nobody to ask (then `--yes` is required). */
  confirm?(question: string): Promise<boolean>;
  /** Aborting it stops the long-running commands: `queues --watch`, `run`, `dashboard`. */
  signal?: AbortSignal;
  /** A terminal to draw on: enables in-place refresh and the progress bar. */
  tty?: NodeJS.WriteStream;
}

/** Bad invocation: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that ran and failed (job missing, refused, store error): exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface GlobalOptions {
  url?: string;
  prefix: string;
  json: boolean;
  /** Create the SQLite file when it does not exist (otherwise the CLI refuses: a typo would make an empty store). */
  create: boolean;
}

/** What every command gets: the global options and the io. */
export interface Ctx extends GlobalOptions {
  io: CliIo;
  connection: string;
  /** The store in words (`SQLite file /abs/docket.db`, `Redis redis://…`). */
  store: StoreDescription;
  /** Prints a value: one line of JSON with `--json`, else the `human` text. */
  print(value: unknown, human: () => string): void;
  /**
   * Before the first use of the store: says which store it is (on stderr, without `--json`), refuses
   * a SQLite file that does not exist unless `--create`, and fails when the store cannot be reached.
   */
  openStore(): Promise<void>;
  /** Opens a queue, runs `fn`, closes the queue. */
  withQueue<T>(name: string, fn: (queue: Queue) => Promise<T>): Promise<T>;
  /** Opens the store without touching any queue (listing must not create one), runs `fn`, closes it. */
  withStore<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}

/** The store a command talks to: `--url`, else `DOCKET_URL`, else the embedded default (as the library). */
export function connectionOf(url: string | undefined, io: CliIo): string {
  const env = io.env ?? process.env;
  return url ?? env.DOCKET_URL ?? `sqlite:${DEFAULT_SQLITE_FILE}`;
}

export function contextOf(cmd: Command, io: CliIo): Ctx {
  const g = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  const connection = connectionOf(g.url, io);
  const prefix = g.prefix ?? 'bull';
  const json = g.json ?? false;
  const create = g.create ?? false;
  const store = describeStore(connection, io.env ?? process.env);
  /** Opens the store without touching any queue, runs `fn` on it, closes it. */
  const probe = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    // Never written; its {hash tag} passes a Redis Cluster's check whatever the prefix (redis/cluster.ts).
    const queue = new Queue('{docket-cli}', { connection, prefix, skipWaitingForReady: true });
    try {
      await queue.store.ready();
      return await fn(queue.store);
    } finally {
      await queue.close();
    }
  };
  let opened: Promise<void> | undefined;
  const ctx: Ctx = {
    io,
    url: g.url,
    prefix,
    json,
    create,
    connection,
    store,
    print(value, human) {
      io.out(`${json ? JSON.stringify(value) : human()}\n`);
    },
    openStore() {
      opened ??= (async () => {
        if (!json) io.err(`store: ${store.text}${prefix === 'bull' ? '' : `, prefix ${prefix}`}\n`);
        if (wouldCreateSqliteFile(store) && !create) {
          throw new CliError(
            `no SQLite file at ${store.file}: pass --create to create one, or choose the store with --url or DOCKET_URL`,
          );
        }
        await probe(async () => undefined);
      })();
      return opened;
    },
    async withQueue(name, fn) {
      await ctx.openStore();
      // Inspecting a queue records no library version in it (as BullMQ's skipMetasUpdate).
      const queue = new Queue(name, { connection, prefix, skipMetasUpdate: true });
      try {
        await queue.waitUntilReady();
        return await fn(queue);
      } finally {
        await queue.close();
      }
    },
    async withStore(fn) {
      await ctx.openStore();
      return probe(fn);
    },
  };
  return ctx;
}

/** Parses a `--data`/`--opts` JSON argument, as a usage error when it is not JSON. */
export function parseJsonOption(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Resolves when `signal` aborts (never without a signal). */
export function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
