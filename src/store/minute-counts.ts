import type { MinuteCount } from './types.js';

/** The kinds a store records per minute, by the one-letter code its rows and fields carry. */
const KINDS = { c: 'completed', f: 'failed', s: 'stalled' } as const;

/**
 * Store.getMinuteCounts' answer from a store's rows (minute, kind code 'c' | 'f' | 's', count):
 * the minutes from `sinceMinute` with any count, oldest first.
 */
export function toMinuteCounts(
  rows: Iterable<{ minute: number; kind: string; n: number }>,
  sinceMinute: number,
): MinuteCount[] {
  const byMinute = new Map<number, MinuteCount>();
  for (const { minute, kind, n } of rows) {
    const field = KINDS[kind as keyof typeof KINDS];
    if (!field || !(minute >= sinceMinute)) continue;
    let entry = byMinute.get(minute);
    if (!entry) {
      entry = { minute, completed: 0, failed: 0, stalled: 0 };
      byMinute.set(minute, entry);
    }
    entry[field] += n;
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}
