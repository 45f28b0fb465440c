import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);

/** Where the packed Docket is installed as a user would, and how its `npm install` went. */
export interface PackageApp {
  /** A project folder with `docket` and `bullmq` (the compatibility package) in node_modules. */
  dir: string;
  /** The two tarballs, as `npm pack` made them. */
  docketTarball: string;
  compatTarball: string;
  /** The project's package.json dependencies (exact versions, taken from the repository's lockfile install). */
  dependencies: Record<string, string>;
  install: { code: number; output: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    packageApp: PackageApp;
  }
}

const ROOT = resolve(import.meta.dirname, '../../..');

/** The packages the user project installs beside Docket, at the versions `npm ci` installed in the repository. */
export const USER_PACKAGES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/bullmq',
  'reflect-metadata',
  'rxjs',
  '@bull-board/api',
  'bullmq-otel',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@types/node',
];

/** npm's own variables (set when the suite runs under `npm test`) would steer the nested npm commands. */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds dist/ unless it is newer than every input of the build (`npm ci` has built it in CI). */
async function ensureBuilt(): Promise<void> {
  const stamp = join(ROOT, 'dist/build-info.json');
  const inputs = ['src', 'scripts/build.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
  const newest = Math.max(...inputs.map((p) => newestMtime(join(ROOT, p))));
  if (existsSync(stamp) && statSync(stamp).mtimeMs > newest) return;
  await run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
}

async function npm(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npm', args, { cwd, env: npmEnv(), maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function pack(cwd: string, into: string): Promise<string> {
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', into], cwd);
  if (packed.code !== 0) throw new Error(`npm pack in ${cwd} failed:\n${packed.output}`);
  const json = packed.output.slice(packed.output.indexOf('['));
  return join(into, (JSON.parse(json) as { filename: string }[])[0].filename);
}

/**
 * Packs Docket and the compatibility package and installs them in a fresh project as a user would
 * (`bullmq` from the compatibility package), beside @nestjs/bullmq, bull-board and bullmq-otel,
 * without `--legacy-peer-deps`. Scripts are skipped (`--ignore-scripts`: peer resolution does not
 * depend on them) and better-sqlite3's compiled addon is copied from the repository instead of
 * being compiled again; packages come from npm's cache, which `npm ci` filled.
 */
export default async function setup(project: TestProject) {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'docket-package-'));
  const packs = join(dir, 'pack');
  const app = join(dir, 'app');
  mkdirSync(packs);
  mkdirSync(app);
  const [docketTarball, compatTarball] = await Promise.all([
    pack(ROOT, packs),
    pack(join(ROOT, 'packages/bullmq-compat'), packs),
  ]);
  const dependencies: Record<string, string> = {};
  for (const name of USER_PACKAGES) {
    dependencies[name] = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  }
  dependencies.docket = `file:${docketTarball}`;
  dependencies.bullmq = `file:${compatTarball}`;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'docket-user', private: true, dependencies }, null, 2),
  );
  const install = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  if (install.code === 0) {
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(join(app, addon, '..'), { recursive: true });
    copyFileSync(join(ROOT, addon), join(app, addon));
  }
  project.provide('packageApp', { dir: app, docketTarball, compatTarball, dependencies, install });
  return () => rmSync(dir, { recursive: true, force: true });
}
