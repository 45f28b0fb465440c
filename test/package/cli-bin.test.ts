import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { npmEnv } from './support/package-setup.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'dist/cjs/cli/main.js');

/** Runs a command as a shell would; resolves with its exit code, output and how long it took. */
function run(
  file: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(file, args, { cwd, env: npmEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('the docket command, as a process', () => {
  it("runs as README shows it in the repository: npx docket (the set-up's npm install builds dist/)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-npx-'));
    const help = await run('npx', ['docket', '--help'], ROOT);
    expect(help.stdout).toContain('Usage: docket');
    expect(help.code).toBe(0);
    const queues = await run('npx', ['docket', '--url', `sqlite:${join(dir, 'x.db')}`, '--create', 'queues'], ROOT);
    expect(queues.stdout).toBe('no queues\n');
    expect(queues.code).toBe(0);
  });

  it('refuses to create ./docket.db where it runs, saying where it looked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-cwd-'));
    const res = await run(process.execPath, [BIN, 'queues'], dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`store: SQLite file ${join(dir, 'docket.db')}`);
    expect(res.stderr).toContain('pass --create');
    expect(existsSync(join(dir, 'docket.db'))).toBe(false);
  });

  it('exits 1 within seconds when Redis cannot be reached, with a one-line error', async () => {
    const port = await freePort();
    const res = await run(process.execPath, [BIN, '--url', `redis://127.0.0.1:${port}`, 'queues'], ROOT);
    expect(res.code).toBe(1);
    expect(res.ms).toBeLessThan(10_000);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^error: Redis at 127\.0\.0\.1:\d+ cannot be reached: .*ECONNREFUSED/);
  });
});
