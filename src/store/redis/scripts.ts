import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { queueKeys } from './keys.js';

/** One Lua script per transition or read, in `scripts/<name>.lua`. */
export const SCRIPT_NAMES = [
  'ready',
  'addJobs',
  'addFlow',
  'moveToWaitingChildren',
  'fetchNext',
  'complete',
  'fail',
  'extendLocks',
  'recoverStalled',
  'moveToDelayed',
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
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Registered under this prefix so they never clash with the application's own commands. */
const COMMAND_PREFIX = 'docket_';
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

/** A script's text with its `-- @include name` lines replaced by `scripts/includes/name.lua`. */
export function scriptSource(name: ScriptName): string {
  return readScript(name).replace(INCLUDE, (_line, include: string) => readScript(`includes/${include}`));
}

/**
 * Registers every script on the client with `defineCommand`: ioredis then calls it by EVALSHA and
 * loads it again by itself after a NOSCRIPT (a restarted or flushed server).
 */
export function defineScripts(client: Redis): void {
  for (const name of SCRIPT_NAMES) {
    client.defineCommand(COMMAND_PREFIX + name, { lua: scriptSource(name) });
  }
}

type ScriptArg = string | number;

/** Runs a registered script of `queue` with the queue's twelve keys and `args` as ARGV. */
export function runScript(client: Redis, name: ScriptName, queue: string, args: ScriptArg[]): Promise<unknown> {
  const keys = queueKeys(queue);
  const command = (client as unknown as Record<string, (args: ScriptArg[]) => Promise<unknown>>)[COMMAND_PREFIX + name];
  // One array argument (ioredis flattens it): spreading 100 000 values into a call overflows the stack.
  return command.call(client, [keys.length, ...keys, ...args]);
}
