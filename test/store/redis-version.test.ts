import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Queue, UnsupportedServerError } from '../../src/index.js';
import { isMissingFunctions, serverVersion, unsupportedServer } from '../../src/store/redis/server-version.js';
import { RedisServer } from '../support/redis-server.js';
import { queueName } from '../support/stores.js';

// Docket's scripts are Redis Functions (Redis 7.0+). No Redis 6 runs here, so the old-server text is
// checked on a real Redis 7 INFO reply with its version field changed; the whole path (FUNCTION refused,
// INFO read, one clear error) runs on a real Redis 7 whose FUNCTION and FCALL are renamed away, which
// answers exactly as Redis 6 does ("ERR unknown command 'FUNCTION', with args beginning with: …").

describe('the Redis version check', () => {
  let info = '';
  beforeAll(async () => {
    const client = new Redis(inject('redisUrl'));
    info = await client.info('server');
    client.disconnect();
  });

  it('reads the product and version from INFO (Valkey reports its own version besides redis_version)', () => {
    expect(serverVersion(info)).toEqual({ product: 'Redis', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const valkey = '# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.2\r\n';
    expect(serverVersion(valkey)).toEqual({ product: 'Valkey', version: '8.0.2' });
    expect(serverVersion('# Server\r\n')).toBeUndefined();
  });

  it('names the version needed for a server older than Redis 7', () => {
    const old = info.replace(/^redis_version:.*$/m, 'redis_version:6.2.14\r');
    const cause = new Error("ERR unknown command 'FUNCTION', with args beginning with: 'LOAD' 'REPLACE'");
    expect(isMissingFunctions(cause)).toBe(true);
    const err = unsupportedServer('10.0.0.5:6379', old, cause);
    expect(err).toBeInstanceOf(UnsupportedServerError);
    expect(err.name).toBe('UnsupportedServerError');
    expect(err.message).toBe(
      'Docket needs Redis 7.0 or newer (or Valkey 7.2+): its scripts are Redis Functions (FUNCTION LOAD, FCALL). ' +
        'The server at 10.0.0.5:6379 runs Redis 6.2.14: upgrade it.',
    );
    expect(err.cause).toBe(cause);
  });

  it('tells a server too old from one that disabled the commands, and other errors from both', () => {
    const cause = new Error("ERR unknown command 'FUNCTION'");
    expect(unsupportedServer('h:1', info, cause).message).toMatch(
      /refused FUNCTION: it is older, or the commands are disabled/,
    );
    expect(unsupportedServer('h:1', undefined, cause).message).toMatch(/a server whose version it did not tell/);
    expect(isMissingFunctions(new Error("ERR unknown command 'FCALL', with args beginning with: 'x'"))).toBe(true);
    expect(isMissingFunctions(new Error('ERR Function not found'))).toBe(false);
    expect(isMissingFunctions(new Error("ERR unknown command 'FOO'"))).toBe(false);
  });
});

describe('a server that refuses FUNCTION', () => {
  const server = new RedisServer([
    '--rename-command',
    'FUNCTION',
    'hidden-function',
    '--rename-command',
    'FCALL',
    'hidden-fcall',
  ]);
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it('fails the first call with one clear error naming what Docket needs', async () => {
    const queue = new Queue(queueName(), { connection: server.url });
    try {
      const err = await queue.add('x', {}).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(UnsupportedServerError);
      expect(err?.message).toMatch(
        new RegExp(
          `Docket needs the FUNCTION and FCALL commands \\(Redis 7\\.0\\+, Valkey 7\\.2\\+\\), but the server at 127\\.0\\.0\\.1:${server.port} \\(Redis 7\\.`,
        ),
      );
      // The next call asks again (the server may have been upgraded meanwhile) and fails the same way.
      await expect(queue.getJobCounts()).rejects.toBeInstanceOf(UnsupportedServerError);
    } finally {
      await queue.close();
    }
  });
});
