import { localTime } from './schedule.js';

const MINUTE_MS = 60_000;
/** Longer than any local day (25 h on a fall-back day, a few more where a zone moved across the date line). */
const SEARCH_MS = 48 * 60 * MINUTE_MS;

/** `y * 10000 + m * 100 + d` of the local date: larger for later dates. */
function localDateKey(at: number, timeZone: string): number {
  const local = localTime(at, timeZone);
  return local.year * 10_000 + local.month * 100 + local.day;
}

/**
 * The first instant of the local day that holds `at` in `timeZone` (an IANA name): its midnight, or where midnight
 * does not exist (a zone that springs forward at 00:00) the first minute after the gap. Not `at` less the local
 * time of day, which is an hour off on a daylight-saving change day, nor a fixed offset.
 * Offsets change on whole minutes, so the earliest minute whose local date is `at`'s is searched for (bisection
 * over the 48 h before `at`: a dozen lookups).
 */
export function startOfLocalDay(at: Date | number, timeZone: string): Date {
  const now = typeof at === 'number' ? at : at.getTime();
  const day = localDateKey(now, timeZone);
  // Invariant: the local date at `before` is earlier than `day`; at `from` (a whole minute) it is `day`.
  let from = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  let before = from - SEARCH_MS;
  while (from - before > MINUTE_MS) {
    const middle = before + Math.floor((from - before) / (2 * MINUTE_MS)) * MINUTE_MS;
    if (localDateKey(middle, timeZone) >= day) from = middle;
    else before = middle;
  }
  return new Date(from);
}
