/**
 * Where a job that finishes at `now` (whole ms) goes in its finished list (completed or failed),
 * given the place of the newest job already there (`last`): at `now`, or k/1000 ms above `last`
 * when that one finished within the same ms (k up to 999). The list then orders jobs by when they
 * finished, also within one ms; with equal places BullMQ falls back to the id as a string ("10"
 * before "7"), so that keeping the newest N could keep job 7 and drop job 10.
 * A bound "finished at or before ms m" on these places reads "< m + 1".
 * The Redis scripts compute the same (`finishScore` in scripts/includes/base.lua).
 */
export function finishPlace(last: number | undefined, now: number): number {
  if (last === undefined || last < now || last >= now + 1) return now;
  const k = Math.round((last - now) * 1000) + 1;
  return k <= 999 ? now + k / 1000 : last;
}
