import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolated, queueName, stores } from '../support/stores.js';
import { lastJson, packageApp, runFile } from './support/app.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(import.meta.dirname, 'fixtures/nest-app');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The two ways a Nest application is built: CommonJS (Nest's default) and ESM. */
const FLAVOURS = [
  { name: 'CommonJS', dir: 'nest-cjs', type: 'commonjs' },
  { name: 'ESM', dir: 'nest-esm', type: 'module' },
] as const;

/** Copies the fixture app into the user project and compiles it with tsc, decorators on, skipLibCheck off. */
async function compile(flavour: (typeof FLAVOURS)[number]): Promise<{ code: number; output: string }> {
  const dir = join(packageApp().dir, flavour.dir);
  mkdirSync(dir, { recursive: true });
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: flavour.type }));
  const compilerOptions = {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'dist',
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['app.ts', 'types.ts'] }));
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
    return { code: 0, output: '' };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('NestJS (@nestjs/bullmq) with Docket installed as bullmq', () => {
  const builds = new Map<string, { code: number; output: string }>();

  beforeAll(async () => {
    const results = await Promise.all(FLAVOURS.map((f) => compile(f)));
    for (const [i, f] of FLAVOURS.entries()) builds.set(f.name, results[i]);
  });

  describe.each(FLAVOURS)('a $name app', (flavour) => {
    it('compiles with tsc, without skipLibCheck (BullMQ types as @nestjs/bullmq and its docs use them)', () => {
      const build = builds.get(flavour.name)!;
      expect(build.output).toBe('');
      expect(build.code).toBe(0);
    });

    describe.each(stores)('on $kind', (store) => {
      it('runs a @Processor WorkerHost, @InjectQueue, @QueueEventsListener and @InjectFlowProducer', async () => {
        expect(builds.get(flavour.name)?.code).toBe(0);
        const stdout = await runFile(join(flavour.dir, 'dist/app.js'), [], {
          env: { DOCKET_TEST_CONNECTION: isolated(store, 3).connection(), DOCKET_TEST_PREFIX: queueName('nest') },
        });
        const seen = lastJson(stdout);
        expect(seen.welcome).toBe('sent to ada@example.com');
        expect(seen.children).toBe(3);
        expect(seen.counts).toEqual({ completed: 5, failed: 0 });
        // The worker's events, through @OnWorkerEvent.
        const byName = (name: string) => seen.worker.filter((w: { name: string }) => w.name === name);
        expect(byName('welcome')).toEqual([expect.objectContaining({ result: 'sent to ada@example.com' })]);
        expect(
          byName('child')
            .map((w: { result: number }) => w.result)
            .sort(),
        ).toEqual([2, 4, 6]);
        expect(byName('parent')).toEqual([{ id: seen.parentId, name: 'parent', result: 12 }]);
        // Every completion, through @OnQueueEvent (QueueEvents).
        expect(seen.queueEvents).toContainEqual({ jobId: seen.parentId, returnvalue: 12 });
        expect(seen.queueEvents).toHaveLength(5);
      });
    });
  });
});
