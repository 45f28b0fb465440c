import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { isolated, stores } from '../support/stores.js';
import { cli } from './cli-harness.js';

/** Which store the CLI shows, a SQLite file it would create by mistake, a store it cannot reach. */
describe('docket CLI and its store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-cli-store-'));

  it('says which store it shows, on stderr (not with --json)', async () => {
    const file = join(dir, 'shown.db');
    const sqlite = await cli(`sqlite:${file}`, ['--create', 'queues']);
    expect(sqlite.code).toBe(0);
    expect(sqlite.err).toBe(`store: SQLite file ${file}\n`);
    const redis = await cli(isolated(stores[1], 4).connection(), ['--prefix', 'shown', 'queues']);
    expect(redis.code).toBe(0);
    expect(redis.err).toMatch(/^store: Redis redis:\/\/127\.0\.0\.1:\d+\/4, prefix shown\n$/);
    const json = await cli(`sqlite:${file}`, ['--json', 'queues']);
    expect(json.err).toBe('');
    expect(JSON.parse(json.out)).toEqual([]);
  });

  it('hides the password of a Redis URL', async () => {
    const port = await freePort();
    const res = await cli(`redis://user:s3cret@127.0.0.1:${port}`, ['queues']);
    expect(res.err).toContain(`store: Redis redis://***@127.0.0.1:${port}`);
    expect(res.err).not.toContain('s3cret');
  });

  it('refuses to create a SQLite file unless --create', async () => {
    const file = join(dir, 'typo.db');
    const processor = join(dir, 'processor.mjs');
    writeFileSync(processor, 'export default async () => 1;');
    for (const args of [['queues'], ['jobs', 'q'], ['add', 'q', 'n'], ['run', processor, '--queue', 'q']]) {
      const refused = await cli(`sqlite:${file}`, args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.err).toContain(`no SQLite file at ${file}: pass --create`);
      expect(existsSync(file)).toBe(false);
    }
    const created = await cli(`sqlite:${file}`, ['--create', 'add', 'q', 'n']);
    expect(created.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    // Once it exists, no flag is needed.
    expect((await cli(`sqlite:${file}`, ['jobs', 'q'])).code).toBe(0);
  });

  it('exits 1 within seconds, with a one-line message, when Redis cannot be reached', async () => {
    const port = await freePort();
    for (const args of [['queues'], ['jobs', 'q'], ['add', 'q', 'n'], ['dashboard', '--port', '0']]) {
      const started = Date.now();
      const res = await cli(`redis://127.0.0.1:${port}`, args);
      expect(res.code, args.join(' ')).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      const [store, error, ...rest] = res.err.trim().split('\n');
      expect(store).toBe(`store: Redis redis://127.0.0.1:${port}`);
      expect(error).toMatch(new RegExp(`^error: Redis at 127\\.0\\.0\\.1:${port} cannot be reached: .*ECONNREFUSED`));
      expect(rest).toEqual([]);
    }
  });
});
