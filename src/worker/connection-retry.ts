import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError } from '../errors.js';
import { isClosedError } from './processor-errors.js';

/** System and server codes of a connection that failed or went away (PostgreSQL's 57P0x: shut down, starting). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * A store call that failed because its connection did, not because of what it asked: BullMQ's
 * worker retries its finishing moves on these ("not isNotConnectionError") and reports the rest.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof ConnectionError || isClosedError(err)) return true;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return (
    typeof message === 'string' && (message.includes('Connection terminated') || /\bconnect E[A-Z]+/.test(message))
  );
}

/**
 * Runs a job's finishing move (complete, fail) until it goes through, again every `delayMs` while it
 * fails for the connection only and `stopped()` is false, as BullMQ's worker does: otherwise a
 * connection cut at the wrong moment left the job active, and the stalled check ran it twice.
 * Any other error, or one after the worker began closing, goes to the caller.
 */
export async function retryOnConnectionLoss<T>(
  move: () => Promise<T>,
  delayMs: number,
  stopped: () => boolean,
): Promise<T> {
  for (;;) {
    try {
      return await move();
    } catch (err) {
      if (!isConnectionError(err) || stopped()) throw err;
      await sleep(delayMs);
    }
  }
}
