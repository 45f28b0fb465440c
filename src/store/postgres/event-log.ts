/** What every transaction of one pool shares: how many events were written since the last trim. */
export interface EventLog {
  sinceTrim: number;
  readonly channel: string;
  /** This pool's id, sent with each notice: the pool's own listener skips it (woken at commit instead). */
  readonly sender: string;
  readonly maxEvents: number;
  /** Caps below the default this process knows of (streams.events.maxLen), by queue: trimmed sooner. */
  readonly caps: Map<string, number>;
}

/** A process trims the logs it writes to once it has written this many events since its last trim. */
export const TRIM_EVERY = 5000;

/**
 * Events since the last trim at which the process trims: TRIM_EVERY, or sooner when a queue it knows
 * of has a smaller cap (never below 100 events: a trim per commit would cost more than it keeps).
 */
export function trimThreshold(log: EventLog): number {
  let at = TRIM_EVERY;
  for (const cap of log.caps.values()) at = Math.min(at, Math.max(100, cap));
  return at;
}

/** Notes a queue's cap (read from or written to its row). */
export function noteCap(log: EventLog, queue: string, cap: number): void {
  if (cap < log.maxEvents) log.caps.set(queue, cap);
  else log.caps.delete(queue);
}

/** How a cancel notice starts on the NOTIFY channel: never a pool's id (8 hex digits), so never a wake-up notice. */
export const CANCEL_NOTICE = '!cancel ';

/** An event's fields as stored: JSON of the defined ones, all as strings. */
export function fieldsJson(fields: Record<string, string | number | undefined>): string {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) values[key] = String(value);
  return JSON.stringify(values);
}
