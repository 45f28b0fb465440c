import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { stores } from '../support/stores.js';

const run = promisify(execFile);
const connectionOf = (kind: string) => stores.find((s) => s.kind === kind)!.connection();

/**
 * `pg` is loaded only when a PostgreSQL store is made (src/store/postgres/driver.ts): a process
 * that imports Docket and uses SQLite never loads it. In a process of its own, since this test
 * runner's process has `pg` loaded by other tests. The packed package is checked the same way
 * (CommonJS and ESM) in test/package/loading.test.ts.
 */
it('importing Docket and running a job on SQLite does not load pg; a PostgreSQL queue does', async () => {
  const child = new URL('../support/driver-loading-child.ts', import.meta.url).pathname;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', child, connectionOf('sqlite'), connectionOf('postgres')],
    { timeout: 30_000 },
  );
  const report = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(report).toEqual({ atImport: false, result: 42, afterSqlite: false, afterPostgres: true });
});
