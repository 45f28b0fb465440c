import { UnsupportedServerError } from '../../errors.js';

/** Redis Functions (FUNCTION LOAD, FCALL), which hold Docket's scripts, came with Redis 7.0. */
export const MIN_REDIS_MAJOR = 7;

/** True when the server answered that it does not know FUNCTION or FCALL. */
export function isMissingFunctions(err: unknown): boolean {
  return /unknown command\W+(function|fcall)\b/i.test((err as Error)?.message ?? '');
}

/** The server's product and version from an INFO reply (Valkey also reports a redis_version for compatibility). */
export function serverVersion(info: string): { product: string; version: string } | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.+?)\\r?$`, 'm').exec(info)?.[1];
  const valkey = field('valkey_version');
  if (valkey) return { product: 'Valkey', version: valkey };
  const redis = field('redis_version');
  return redis ? { product: 'Redis', version: redis } : undefined;
}

/**
 * The error for a server that refused FUNCTION: too old (before Redis 7.0), or one that disabled or
 * renamed the command (some managed services). `info` is the server's INFO reply when it gave one.
 */
export function unsupportedServer(address: string, info: string | undefined, cause: Error): UnsupportedServerError {
  const found = info ? serverVersion(info) : undefined;
  const major = found ? Number.parseInt(found.version, 10) : Number.NaN;
  const runs = found ? `${found.product} ${found.version}` : 'a server whose version it did not tell';
  const text =
    found && major < MIN_REDIS_MAJOR && found.product === 'Redis'
      ? `Docket needs Redis ${MIN_REDIS_MAJOR}.0 or newer (or Valkey 7.2+): its scripts are Redis Functions ` +
        `(FUNCTION LOAD, FCALL). The server at ${address} runs ${runs}: upgrade it.`
      : `Docket needs the FUNCTION and FCALL commands (Redis ${MIN_REDIS_MAJOR}.0+, Valkey 7.2+), but the server at ` +
        `${address} (${runs}) refused FUNCTION: it is older, or the commands are disabled or renamed. ` +
        'Allow FUNCTION LOAD and FCALL for Docket, or use another server.';
  const error = new UnsupportedServerError(text);
  error.cause = cause;
  return error;
}
