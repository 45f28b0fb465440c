import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

/** The newest PostgreSQL server binaries Debian's `postgresql` package installed (.ci/run does), if any. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'pg_ctl')) && existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length > 0 ? join(ROOT, versions[versions.length - 1], 'bin') : undefined;
}

/**
 * A PostgreSQL server of a test's own (initdb in a temp dir, a free port, trust auth), for tests
 * that stop or restart the server: the machine's server on 5432 is shared by every test file. The
 * server refuses to run as root, so as root its tools run as the `postgres` OS user (runuser).
 */
export class PostgresServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'docket-pg-'));
  port = 0;
  private started = false;

  constructor(private readonly bin: string) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  private async tool(name: string, args: string[]): Promise<string> {
    const path = join(this.bin, name);
    const asRoot = process.getuid?.() === 0;
    try {
      const { stdout } = asRoot
        ? await run('runuser', ['-u', 'postgres', '--', path, ...args], { timeout: 120_000 })
        : await run(path, args, { timeout: 120_000 });
      return stdout;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  }

  /** What pg_ctl passes to the server: this port, the socket in our dir, TCP on 127.0.0.1 only. */
  private get serverOptions(): string {
    return `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`;
  }

  async start(): Promise<void> {
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(this.dir, uid, gid);
    }
    this.port = await freePort();
    await this.tool('initdb', [
      '-D',
      this.data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    await this.pgCtl('start');
    this.started = true;
  }

  /** `pg_ctl <action>` on this cluster, waiting up to 60 s, with its log and server options. */
  private pgCtl(action: string, extra: string[] = []): Promise<unknown> {
    const args = ['-D', this.data, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', ...extra];
    return this.tool('pg_ctl', [...args, '-o', this.serverOptions, action]);
  }

  /**
   * Restarts the server and waits until it accepts connections again. `immediate` stops it as a
   * crash would (recovery from the WAL at start); `fast` ends sessions and checkpoints first.
   */
  async restart(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.pgCtl('restart', ['-m', mode]);
  }

  async destroy(): Promise<void> {
    if (this.started)
      await this.tool('pg_ctl', ['-D', this.data, '-w', '-m', 'immediate', 'stop']).catch(() => undefined);
    this.started = false;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
