import type { EventCaps } from '../event-caps.js';

/** What every transaction of one pool shares: how many events were written since the last trim. */
export interface EventLog {
  sinceTrim: number;
  readonly channel: string;
  /** This pool's id, sent with each notice: the pool's own listener skips it (woken at commit instead). */
  readonly sender: string;
  readonly maxEvents: number;
  /** When to trim, and the small caps this process knows of (../event-caps.ts). */
  readonly caps: EventCaps;
}

/** How a cancel notice starts on the NOTIFY channel: never a pool's id (8 hex digits), so never a wake-up notice. */
export const CANCEL_NOTICE = '!cancel ';

/** An event's fields as stored: JSON of the defined ones, all as strings. */
export function fieldsJson(fields: Record<string, string | number | undefined>): string {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) values[key] = String(value);
  return JSON.stringify(values);
}
