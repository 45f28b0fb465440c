import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { addressOf, isCluster, masterOf, masters, type RedisClient } from './cluster.js';
import { queuePrefix } from './keys.js';
import { isMissingFunctions, unsupportedServer } from './server-version.js';

/** One Lua script per transition or read, in `scripts/<name>.lua`. */
export const SCRIPT_NAMES = [
  'ready',
  'addJobs',
  'addFlow',
  'moveToWaitingChildren',
  'fetchNext',
  'complete',
  'fail',
  'cancelJob',
  'extendLocks',
  'recoverStalled',
  'moveToDelayed',
  'recordStep',
  'moveToWait',
  'pause',
  'rateLimit',
  'getRateLimitTtl',
  'updateProgress',
  'updateData',
  'addLog',
  'remove',
  'getState',
  'getCounts',
  'getRange',
  'promote',
  'promoteJobs',
  'retryJob',
  'retryJobs',
  'changeDelay',
  'changePriority',
  'clean',
  'drain',
  'obliterate',
  'upsertScheduler',
  'scheduleNext',
  'removeScheduler',
  'removeChildDependency',
  'removeUnprocessedChildren',
  'removeOrphan',
  'updateGroup',
  'getGroups',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

const INCLUDE = /^-- @include (\w+)[ \t]*$/gm;

const sources = new Map<string, string>();

function readScript(path: string): string {
  let source = sources.get(path);
  if (source === undefined) {
    source = readFileSync(new URL(`./scripts/${path}.lua`, import.meta.url), 'utf8');
    sources.set(path, source);
  }
  return source;
}

/** Include files in an order where each comes after those it uses. */
const INCLUDE_ORDER = [
  'base',
  'calls',
  'state',
  'flows',
  'retention',
  'retry',
  'take',
  'groups',
  'fetch',
  'jobs',
  'dedup',
  'metrics',
  'schedulers',
];

/**
 * All scripts as one Redis Functions library. A script sent with EVALSHA re-runs its whole
 * prologue on every call: creating the ~60 helper closures of its includes cost 15-50 µs of Redis
 * CPU per call, more than the commands of a small transition (bench/NOTES.md).
 * In a library the helpers are created once, at load; each function only binds KEYS and ARGV
 * (upvalues the helpers read), runs its body and writes the events the body emitted (base.lua).
 * The scripts' files stay plain Lua, one per transition; this turns them into
 * `docket_<version>_<name>` functions.
 */
function buildLibrary(): { source: string; prefix: string } {
  const bindings: string[] = [];
  const base = readScript('includes/base').replace(
    /^local (\w+) = (KEYS\[1\]|prefix \.\. '[\w-]+'|string\.sub\(prefix, 1, -2\))$/gm,
    (_line, name: string, expr: string) => {
      bindings.push(`${name} = ${expr}`);
      return `local ${name}`;
    },
  );
  const includes = INCLUDE_ORDER.filter((n) => n !== 'base').map((n) => readScript(`includes/${n}`));
  const bodies = SCRIPT_NAMES.map((name) => ({ name, body: readScript(name).replace(INCLUDE, '') }));
  const hash = createHash('sha1')
    .update([base, ...includes, ...bodies.map((b) => b.body)].join('\n'))
    .digest('hex')
    .slice(0, 12);
  const prefix = `docket_${hash}_`;
  const parts = [
    `#!lua name=docket_${hash}`,
    'local KEYS, ARGV',
    base,
    `local function bindKeys()\n  ${bindings.join('\n  ')}\n  resetEvents()\nend`,
    ...includes,
    ...bodies.map(
      ({ name, body }) =>
        `redis.register_function('${prefix}${name}', function(keys, args)\n  KEYS = keys\n  ARGV = args\n  bindKeys()\n  local result = (function()\n${body}\n  end)()\n  flushEvents()\n  return result\nend)`,
    ),
  ];
  return { source: parts.join('\n'), prefix };
}

let library: { source: string; prefix: string } | undefined;
/** Per server connection (a plain client, or one master's connection of a Cluster). */
const loadedOn = new WeakMap<Redis, Promise<unknown>>();
/** Per Cluster client: the library is on every master it knew of. */
const loadedOnMasters = new WeakMap<Cluster, Promise<unknown>>();

function loadOn(node: Redis): Promise<unknown> {
  library ??= buildLibrary();
  let done = loadedOn.get(node);
  if (!done) {
    done = node.call('FUNCTION', 'LOAD', 'REPLACE', library.source).catch((err: Error) => explainRefusal(node, err));
    loadedOn.set(node, done);
    done.catch(() => loadedOn.delete(node));
  }
  return done;
}

/** A server that does not know FUNCTION gets one clear error naming the version needed. */
async function explainRefusal(node: Redis, err: Error): Promise<never> {
  if (!isMissingFunctions(err)) throw err;
  const info = await node.info('server').catch(() => undefined);
  throw unsupportedServer(addressOf(node), info, err);
}

/**
 * Loads the library on every master (a Cluster sends a keyless FUNCTION LOAD to one random node, and
 * FCALL goes to the master of its key). Masters already loaded answer from the memo.
 */
function load(client: RedisClient): Promise<unknown> {
  if (!isCluster(client)) return loadOn(client);
  let done = loadedOnMasters.get(client);
  if (!done) {
    done = masters(client).then((nodes) => Promise.all(nodes.map(loadOn)));
    loadedOnMasters.set(client, done);
    done.catch(() => loadedOnMasters.delete(client));
  }
  return done;
}

/**
 * After "function not found" (a server restarted without persistence or flushed, a master new to
 * the Cluster after resharding): forgets the load on the server that answered, the master of `key`'s
 * slot (every master when the client cannot tell which), and loads again.
 */
async function reload(client: RedisClient, key: string): Promise<void> {
  if (!isCluster(client)) loadedOn.delete(client);
  else {
    const answered = masterOf(client, key);
    for (const node of answered ? [answered] : client.nodes('master')) loadedOn.delete(node);
    loadedOnMasters.delete(client);
  }
  await load(client);
}

/** Builds the library once per process; it is loaded on a server at its first call (see runScript). */
export function defineScripts(_client: RedisClient): void {
  library ??= buildLibrary();
}

type ScriptArg = string | number;

/** Runs the function `name` for `queue`: KEYS[1] is the queue's prefix `<q>:`, `args` are ARGV. */
export async function runScript(
  client: RedisClient,
  name: ScriptName,
  queue: string,
  args: ScriptArg[],
): Promise<unknown> {
  await load(client);
  // One array argument (ioredis flattens it): spreading 100 000 values into a call overflows the stack.
  const key = queuePrefix(queue);
  const argv = [library!.prefix + name, 1, key, ...args];
  try {
    return await client.call('FCALL', argv);
  } catch (err) {
    if (!/function not found/i.test((err as Error).message)) throw err;
    await reload(client, key);
    return client.call('FCALL', argv);
  }
}
