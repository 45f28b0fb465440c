/** Turns whatever a processor threw into a readable Error. */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (err && typeof err === 'object' && 'message' in err) {
    const e = new Error(String((err as { message: unknown }).message));
    if ('name' in err) e.name = String((err as { name: unknown }).name);
    return e;
  }
  return new Error(typeof err === 'string' ? err : `Processor threw a non-Error value: ${safeString(err)}`);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      // e.g. a null-prototype, circular object: neither JSON nor String can print it
      return `an object without a string form (keys: ${Object.keys(value as object).join(', ') || 'none'})`;
    }
  }
}

export function isClosedError(err: unknown): boolean {
  const msg = (err as Error)?.message ?? '';
  return msg.includes('Connection is closed') || msg.includes('The database connection is not open');
}
