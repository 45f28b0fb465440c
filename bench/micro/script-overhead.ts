/**
 * Fixed cost of one Docket script call on Redis: `complete` with no item and no fetch (so only the
 * script's prologue — its ~50 local helper closures from the includes — and its constant reads run)
 * against a trivial script taking the same keys and arguments. Uses Docket internals (script sources
 * and key layout), so it may need updating when src/store/redis changes.
 *
 *   npx tsx bench/micro/script-overhead.ts [calls]
 */
import { Redis } from 'ioredis';
import { queueKeys } from '../../src/store/redis/keys.js';
import { scriptSource } from '../../src/store/redis/scripts.js';
import { RedisServer } from '../../test/support/redis-server.js';

async function usecPerCall(redis: Redis, sha: string, args: (string | number)[], calls: number): Promise<number> {
  await redis.config('RESETSTAT');
  for (let done = 0; done < calls; done += 100) {
    const pipe = redis.pipeline();
    for (let i = 0; i < 100; i++) pipe.call('EVALSHA', sha, ...args);
    await pipe.exec();
  }
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(stats)?.[1]);
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20_000);
  const server = new RedisServer();
  await server.start();
  const redis = new Redis(server.url);
  try {
    const keys = queueKeys('bull:micro');
    const args = [keys.length, ...keys, Date.now(), 0, -1];
    const trivial = (await redis.script('LOAD', 'return 1')) as string;
    const complete = (await redis.script('LOAD', scriptSource('complete'))) as string;
    const fetchNext = (await redis.script('LOAD', scriptSource('fetchNext'))) as string;
    const fetchArgs = [keys.length, ...keys, Date.now(), 1, 30000, '', 0, 0, 'token'];
    await usecPerCall(redis, complete, args, 1000); // warm-up
    console.log(`calls: ${calls}; Redis-side µs per call (commandstats):`);
    console.log(
      `  trivial script (return 1), same keys/args   ${(await usecPerCall(redis, trivial, args, calls)).toFixed(2)}`,
    );
    console.log(
      `  complete.lua, 0 items, no fetch             ${(await usecPerCall(redis, complete, args, calls)).toFixed(2)}`,
    );
    console.log(
      `  fetchNext.lua, empty queue                  ${(await usecPerCall(redis, fetchNext, fetchArgs, calls)).toFixed(2)}`,
    );
    console.log(
      `  script sizes: complete ${scriptSource('complete').length} B, fetchNext ${scriptSource('fetchNext').length} B`,
    );
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
