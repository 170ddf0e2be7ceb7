import { localTime } from './schedule.js';

/**
 * When a picture was taken, as far as HSI can trust the camera's clock. An upload's capture time (today the file's
 * modification time, as the camera or its FTP client set it) is what events are judged by: a 02:00 picture
 * processed at noon after an outage is a night event. A camera clock can be wrong, though: a capture time later than
 * the upload's arrival (beyond a small tolerance for clocks running a little ahead) or before 2001 (a camera that
 * lost its clock and counts from 1970) is not believed: arrival time stands in, and the caller may flag it.
 */

/** A camera clock this far ahead of HSI's is still believed (NTP drift, a slow FTP upload). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** Capture times before this are a camera that lost its clock. */
/** Capture times before this are a camera that lost its clock (many restart at 2000-01-01, local time). */
export const EARLIEST_CAPTURE_MS = Date.UTC(2001, 0, 1);

export interface CaptureTime {
  /** Epoch ms to judge the picture by. */
  at: number;
  /** The camera's time was not believed and arrival time stands in. */
  clamped: boolean;
}

/** The time to judge a picture by: its capture time when plausible, else its arrival. */
export function saneCaptureTime(capturedAt: number, arrivedAt: number): CaptureTime {
  if (!Number.isFinite(capturedAt)) return { at: arrivedAt, clamped: true };
  if (capturedAt > arrivedAt + FUTURE_TOLERANCE_MS || capturedAt < EARLIEST_CAPTURE_MS) {
    return { at: arrivedAt, clamped: true };
  }
  return { at: Math.min(capturedAt, arrivedAt), clamped: false };
}

/** Where an upload's capture time came from, most trusted first. */
export type CaptureSource = 'exif' | 'file_name' | 'file_time';

/** A camera's wall-clock reading: what it printed, without a timezone (months and days from 1). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const MINUTE_MS = 60_000;

/** A wall time that names a real calendar instant (February 30th and 25:00 do not). */
export function validWallTime(w: WallTime): boolean {
  const ms = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const d = new Date(ms);
  return (
    Number.isFinite(ms) &&
    w.year >= 1970 &&
    d.getUTCFullYear() === w.year &&
    d.getUTCMonth() === w.month - 1 &&
    d.getUTCDate() === w.day &&
    d.getUTCHours() === w.hour &&
    d.getUTCMinutes() === w.minute &&
    d.getUTCSeconds() === w.second
  );
}

/**
 * The instant a wall time names in `timeZone` (an IANA name), or at a fixed `offsetMinutes` east of UTC when the
 * camera said its offset. In a daylight-saving gap the time after the gap; in an overlap the earlier instant.
 * Offsets are found from the zone itself (two lookups), never assumed.
 */
export function wallTimeToInstant(w: WallTime, timeZone: string, offsetMinutes?: number): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  if (offsetMinutes !== undefined) return asUtc - offsetMinutes * MINUTE_MS;
  const offsetAt = (instant: number) => {
    const t = localTime(instant, timeZone);
    const local = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
    return Math.round((local - Math.floor(instant / MINUTE_MS) * MINUTE_MS) / MINUTE_MS);
  };
  // The offsets a day before and after (no zone changes twice within two days, and none is more than 14 h from
  // UTC): of those that map back to the wall time, the earliest instant (the first of an overlap).
  const before = offsetAt(asUtc - 24 * 60 * MINUTE_MS);
  const after = offsetAt(asUtc + 24 * 60 * MINUTE_MS);
  const fits = [before, after]
    .map((offset) => asUtc - offset * MINUTE_MS)
    .filter((instant) => offsetAt(instant) === Math.round((asUtc - instant) / MINUTE_MS));
  if (fits.length > 0) return Math.min(...fits);
  // In a gap (02:30 on a spring-forward night): read with the offset before it, which lands after the gap.
  return asUtc - before * MINUTE_MS;
}

/** `+02:00`, `-0530`, `Z` as minutes east of UTC; undefined when it is none of those. */
export function parseUtcOffset(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  return m[1] === '-' ? -minutes : minutes;
}

const two = '(\\d{2})';
const year = '((?:19|20)\\d{2})';
/**
 * Capture-time forms of camera uploads. On the file name, tried in order:
 * - `…_20231115143022123_MOTION_DETECTION.jpg`: Hikvision (date, time and milliseconds, 17 digits);
 * - `Front_00_20231115143022.jpg`: Reolink (14 digits);
 * - `MDAlarm_20231115-143022.jpg`, `Schedule_20231115-143022.jpg`: Foscam; `20231115_143022[123].jpg` and
 *   `20231115T143022` of many others (date, `_`, `-`, `T` or space, time, optional milliseconds);
 * - `2023-11-15_14-30-22.jpg`, `2023-11-15 14.30.22.jpg`, `2023-11-15T14:30:22`: dashed dates with `-`, `.` or `:`
 *   in the time.
 * On the path's end (the file and its last folders): `2023-11-15/001/jpg/14/30/22[M][0@0][0].jpg` (Dahua and
 * Amcrest snapshots: hour, minute and second as the last folders and the file) and
 * `2023-11-15/…/14.30.22-14.30.45[M][0@0][0].mp4` (their clips: the start time). Then the folders, deepest first,
 * with the file-name forms (an export folder named after a date speaks only for files that carry none).
 * A digit run is taken only where it stands apart (not inside a longer number) and names a real date and time.
 */
const NAME_FORMS: readonly RegExp[] = [
  new RegExp(`(?:^|[^0-9])${year}${two}${two}${two}${two}${two}(?:\\d{3})?(?![0-9])`),
  new RegExp(`(?:^|[^0-9])${year}${two}${two}[-_T ]${two}${two}${two}(?:\\d{3})?(?![0-9])`),
  new RegExp(`(?:^|[^0-9])${year}-${two}-${two}[-_T ]${two}[-.:]${two}[-.:]${two}(?![0-9])`),
];
const PATH_END_FORMS: readonly RegExp[] = [
  new RegExp(`(?:^|/)${year}-${two}-${two}/(?:[^/]+/)*${two}/${two}/${two}(?:\\[[^/]*|\\.[^/]*)$`),
  new RegExp(`(?:^|/)${year}-${two}-${two}/(?:[^/]+/)*${two}\\.${two}\\.${two}-[^/]*$`),
];

function wall(m: RegExpExecArray): WallTime {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((g) => Number(m[g]));
  return { year: y!, month: mo!, day: d!, hour: h!, minute: mi!, second: s! };
}

function firstValid(text: string, forms: readonly RegExp[]): WallTime | undefined {
  for (const form of forms) {
    const m = form.exec(text);
    if (m === null) continue;
    const w = wall(m);
    if (validWallTime(w)) return w;
  }
  return undefined;
}

/**
 * The camera's wall time in a file's path (relative to its camera folder), or undefined: the file name first, then
 * the Dahua/Amcrest folder forms at the path's end, then the folders from the deepest. Pure.
 */
export function wallTimeFromFileName(relPath: string): WallTime | undefined {
  const parts = relPath.replaceAll('\\', '/').split('/');
  const name = parts.at(-1) ?? '';
  const own = firstValid(name, NAME_FORMS) ?? firstValid(parts.join('/'), PATH_END_FORMS);
  if (own !== undefined) return own;
  for (const folder of parts.slice(0, -1).reverse()) {
    const found = firstValid(folder, NAME_FORMS);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * When a picture was taken, as the camera says, best source first: EXIF DateTimeOriginal (at its OffsetTimeOriginal
 * when the camera wrote one, else in the site's timezone, as cameras keep local time), then a time in the file's
 * name or folders (site timezone), then the file's modification time. Garbage in one source falls through to the
 * next; what is implausible (the future, before 2001) is left to `saneCaptureTime`, which flags it. Pure.
 */
export function captureTimeOf(input: {
  exif?: { dateTimeOriginal?: WallTime; offset?: string };
  relPath: string;
  fileTime: number;
  timeZone: string;
}): { at: number; source: CaptureSource } {
  const exif = input.exif?.dateTimeOriginal;
  if (exif !== undefined && validWallTime(exif)) {
    return { at: wallTimeToInstant(exif, input.timeZone, parseUtcOffset(input.exif?.offset)), source: 'exif' };
  }
  const named = wallTimeFromFileName(input.relPath);
  if (named !== undefined) return { at: wallTimeToInstant(named, input.timeZone), source: 'file_name' };
  return { at: input.fileTime, source: 'file_time' };
}
