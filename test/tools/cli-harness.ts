import { type CliIo, runCli } from '../../src/cli/main.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** Whether the store has `Store.listQueues` yet (docs/tools.md: listing every queue needs it). */
export function hasListQueues(store: { kind: string }): boolean {
  const proto = (store.kind === 'redis' ? RedisStore : store.kind === 'postgres' ? PostgresStore : SqliteStore)
    .prototype as { listQueues?: unknown };
  return typeof proto.listQueues === 'function';
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `docket` in-process against `connection`; env is empty so DOCKET_URL never leaks in. */
export async function cli(connection: string, args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  const run = { out: '', err: '' };
  const io: CliIo = {
    out: (s) => {
      run.out += s;
    },
    err: (s) => {
      run.err += s;
    },
    env: {},
    ...extra,
  };
  const code = await runCli(['--url', connection, ...args], io);
  return { code, ...run };
}

/** Starts a long-running command; `stop()` aborts it and resolves with its result. */
export function cliLive(connection: string, args: string[], extra: Partial<CliIo> = {}) {
  const controller = new AbortController();
  const run = { out: '', err: '' };
  const done = runCli(['--url', connection, ...args], {
    out: (s) => {
      run.out += s;
    },
    err: (s) => {
      run.err += s;
    },
    env: {},
    signal: controller.signal,
    ...extra,
  });
  return {
    output: () => run.out,
    errors: () => run.err,
    async stop(): Promise<CliRun> {
      controller.abort();
      const code = await done;
      return { code, ...run };
    },
  };
}
