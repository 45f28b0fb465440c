import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/stores.js';
import { npmEnv } from './support/package-setup.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'dist/cjs/cli/main.js');

/** README's `npx docket …` lines of "CLI and dashboard", as argument lists (comments dropped). */
function readmeLines(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## CLI and dashboard'));
  const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('npx docket '))
    .map((line) => [...line.slice('npx docket '.length).matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]));
}

/**
 * README's set-up (`npm run demo`) then its CLI lines, in the repository, as a user types them (the
 * binary `npx docket` runs: dist/cjs/cli/main.js). The demo's store is a temporary file named by
 * DOCKET_URL, which both honour, so the repository's own ./docket.db is left alone.
 */
describe("README's CLI lines after its set-up", () => {
  const env = { ...npmEnv(), DOCKET_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'docket-readme-')), 'docket.db')}` };
  const lines = readmeLines();

  beforeAll(async () => {
    await new Promise<void>((done, fail) =>
      execFile(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: ROOT, env }, (err) =>
        err ? fail(err) : done(),
      ),
    );
  });

  const oneShot = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    );

  /** Starts a long-running command, waits for `ready` on stdout, interrupts it as Ctrl-C would. */
  async function interrupted(args: string[], ready: RegExp): Promise<{ code: number | null; stdout: string }> {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      await until(() => ready.test(stdout), 15_000, `${args[0]} to start`).catch((err: Error) => {
        throw new Error(`${err.message}; its stdout: ${stdout}; its stderr: ${stderr}`);
      });
      child.kill('SIGINT');
      return { code: await exited, stdout };
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('README shows the lines this test runs', () => {
    expect(lines.map((l) => l[0])).toEqual(['queues', 'jobs', 'retry', 'add', 'run', 'dashboard']);
  });

  it('queues, jobs, retry and add work on the demo store', async () => {
    const queues = await oneShot(lines[0]);
    expect(queues.code).toBe(0);
    expect(queues.stdout).toMatch(/^demo\s+no\s+/m);
    for (const args of lines.slice(1, 4)) {
      const { code, stderr } = await oneShot(args);
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
    }
    expect((await oneShot(['jobs', 'emails', '--state', 'delayed'])).stdout).toMatch(/welcome\s+delayed/);
  });

  it('run works on the emails queue until interrupted', async () => {
    const run = await interrupted(lines[4], /worker on emails/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/stopped: \d+ completed, 0 failed/);
  });

  it('dashboard serves until interrupted (on a free port: 3000 may be taken here)', async () => {
    const args = lines[5].map((a) => (a === '3000' ? '0' : a));
    const served = await interrupted(args, /dashboard on http/);
    expect(served.code).toBe(0);
  });
});
