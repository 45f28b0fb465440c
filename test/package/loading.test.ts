import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stores } from '../support/stores.js';
import { lastJson, packageApp, runInApp } from './support/app.js';
import { npmEnv } from './support/package-setup.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SUBPATHS = ['docket', 'docket/dashboard'];

describe('Docket installed from its tarball', () => {
  it('loads through require and import, every subpath too, with package.json exported', async () => {
    const cjs = await runInApp(
      'load.cjs',
      `const out = {};
       for (const id of ${JSON.stringify(SUBPATHS)}) out[id] = Object.keys(require(id)).sort();
       out.version = require('docket/package.json').version;
       out.sameAsBullmq = require('bullmq').Queue === require('docket').Queue;
       console.log(JSON.stringify(out));`,
    );
    const esm = await runInApp(
      'load.mjs',
      `import { createRequire } from 'node:module';
       const require = createRequire(import.meta.url);
       const out = {};
       for (const id of ${JSON.stringify(SUBPATHS)}) out[id] = Object.keys(await import(id)).filter((k) => k !== 'default').sort();
       out.version = (await import('docket/package.json', { with: { type: 'json' } })).default.version;
       const [esmDocket, esmBullmq] = [await import('docket'), await import('bullmq')];
       // One set of instances whichever way Docket is loaded: no dual-package hazard.
       out.sameAsRequire = esmDocket.Queue === require('docket').Queue && esmDocket.Job === require('bullmq').Job;
       out.sameAsBullmq = esmBullmq.Worker === esmDocket.Worker;
       console.log(JSON.stringify(out));`,
    );
    const fromRequire = lastJson(cjs);
    const fromImport = lastJson(esm);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(fromRequire.version).toBe(version);
    expect(fromImport.version).toBe(version);
    for (const id of SUBPATHS) {
      expect(fromRequire[id].length, id).toBeGreaterThan(0);
      expect(fromImport[id], id).toEqual(fromRequire[id]);
    }
    expect(fromRequire.docket).toEqual(
      expect.arrayContaining(['Queue', 'Worker', 'Job', 'FlowProducer', 'QueueEvents']),
    );
    expect(fromRequire.sameAsBullmq).toBe(true);
    expect(fromImport.sameAsRequire).toBe(true);
    expect(fromImport.sameAsBullmq).toBe(true);
  });

  it('loads pg only once a PostgreSQL store is made, through require and import', async () => {
    const [sqlite, postgres] = ['sqlite', 'postgres'].map((kind) => stores.find((s) => s.kind === kind)!.connection());
    const script = (load: string) => `${load}
      const pgLoaded = () => Object.keys(require.cache).some((f) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(f));
      (async () => {
        const [sqlite, postgres] = process.argv.slice(2);
        const out = { atImport: pgLoaded() };
        const queue = new Queue('driver-loading', { connection: sqlite });
        await queue.add('x', {});
        await queue.close();
        out.afterSqlite = pgLoaded();
        const pgQueue = new Queue('driver-loading', { connection: postgres });
        await pgQueue.getJobCounts();
        await pgQueue.close();
        out.afterPostgres = pgLoaded();
        console.log(JSON.stringify(out));
      })();`;
    const cjs = await runInApp('driver.cjs', script("const { Queue } = require('docket');"), [sqlite, postgres]);
    const esm = await runInApp(
      'driver.mjs',
      script(
        "import { createRequire } from 'node:module'; import { Queue } from 'docket'; const require = createRequire(import.meta.url);",
      ),
      [sqlite, postgres],
    );
    const expected = { atImport: false, afterSqlite: false, afterPostgres: true };
    expect(lastJson(cjs)).toEqual(expected);
    expect(lastJson(esm)).toEqual(expected);
  });

  describe.each(stores)('on $kind', (store) => {
    it("require('docket') runs a job, and so does import", async () => {
      const script = (load: string) => `${load}
        (async () => {
          const connection = process.argv[2];
          const name = 'loaded-' + process.pid;
          const queue = new Queue(name, { connection });
          const worker = new Worker(name, async (job) => ({ doubled: job.data.n * 2 }), { connection });
          const done = new Promise((resolve) => worker.once('completed', (job, result) => resolve({ id: job.id, result })));
          await queue.add('double', { n: 21 });
          console.log(JSON.stringify(await done));
          await worker.close();
          await queue.close();
        })();`;
      const cjs = await runInApp('job.cjs', script("const { Queue, Worker } = require('docket');"), [
        store.connection(),
      ]);
      const esm = await runInApp('job.mjs', script("import { Queue, Worker } from 'docket';"), [store.connection()]);
      expect(lastJson(cjs).result).toEqual({ doubled: 42 });
      expect(lastJson(esm).result).toEqual({ doubled: 42 });
    });
  });
});

describe('the compatibility package (bullmq@npm:docket-bullmq)', () => {
  it('installs beside @nestjs/bullmq, @bull-board/api and bullmq-otel without --legacy-peer-deps', () => {
    const { install } = packageApp();
    expect(install.output).not.toMatch(/ERESOLVE|legacy-peer-deps/);
    expect(install.code).toBe(0);
  });

  it('is needed: Docket itself under the name bullmq does not meet their peer ranges', async () => {
    const { docketTarball, dependencies } = packageApp();
    const dir = mkdtempSync(join(tmpdir(), 'docket-peers-'));
    const { docket: _docket, ...others } = dependencies;
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'peers', private: true, dependencies: { ...others, bullmq: `file:${docketTarball}` } }),
    );
    const args = ['install', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'];
    const failure = await promisify(execFile)('npm', args, { cwd: dir, env: npmEnv() }).then(
      () => '',
      (err: { stderr?: string }) => err.stderr ?? 'failed',
    );
    expect(failure).toMatch(/ERESOLVE/);
  });

  it('depends on the Docket of this repository and claims a BullMQ 6 version', () => {
    const docket = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const compat = JSON.parse(readFileSync(join(ROOT, 'packages/bullmq-compat/package.json'), 'utf8'));
    expect(compat.dependencies.docket).toBe(docket.version);
    expect(compat.version).toMatch(/^6\.\d+\.\d+$/);
  });
});
