import { localTime } from './schedule.js';

/**
 * When a picture was taken, as far as HSI can trust the camera's clock. An upload's capture time (today the file's
 * modification time, as the camera or its FTP client set it) is what events are judged by: a 02:00 picture
 * processed at noon after an outage is a night event. A camera clock can be wrong, though: a capture time later than
 * the upload's arrival (beyond a small tolerance for clocks running a little ahead) or before 2000 (a camera that
 * lost its clock and counts from 1970) is not believed: arrival time stands in, and the caller may flag it.
 */

/** A camera clock this far ahead of HSI's is still believed (NTP drift, a slow FTP upload). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** Capture times before this are a camera that lost its clock. */
export const EARLIEST_CAPTURE_MS = Date.UTC(2000, 0, 1);

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
  // The offset a little before (the earlier of an overlap) and at the first guess; the one that maps back wins.
  const candidates = [offsetAt(asUtc - 12 * 60 * MINUTE_MS), offsetAt(asUtc), offsetAt(asUtc + 12 * 60 * MINUTE_MS)];
  for (const offset of candidates) {
    const instant = asUtc - offset * MINUTE_MS;
    if (offsetAt(instant) === offset) return instant;
  }
  // In a gap (02:30 on a spring-forward night): read with the offset before it, which lands after the gap.
  return asUtc - (candidates[0] ?? 0) * MINUTE_MS;
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
 * Capture-time forms in camera file names and folders, tried in order on the path relative to the camera folder:
 * - `2023-11-15/001/jpg/14/30/22[M][0@0][0].jpg`: Dahua and Amcrest (date folder, then hour/minute/second);
 * - `2023-11-15/…/14.30.22-14.30.45[M][0@0][0].mp4`: Dahua and Amcrest clips (the start time);
 * - `…_20231115143022123_MOTION_DETECTION.jpg`: Hikvision (date, time and milliseconds, 17 digits);
 * - `…_00_20231115143022.jpg`: Reolink (14 digits);
 * - `MDAlarm_20231115-143022.jpg`, `Schedule_20231115-143022.jpg`: Foscam;
 * - `image20231115_143022.jpg`, `20231115_143022_1234.jpg`: Axis and most others (date, `_`, `-`, `T` or space,
 *   time).
 * A digit run is taken only where it stands apart (not inside a longer number) and names a real date and time.
 */
const FILE_NAME_FORMS: readonly { pattern: RegExp; wall: (m: RegExpExecArray) => WallTime }[] = [
  {
    pattern: new RegExp(`(?:^|/)${year}-${two}-${two}/(?:[^/]+/)*?${two}/${two}/${two}(?:\\[|\\.)`),
    wall: (m) => wall(m, [1, 2, 3, 4, 5, 6]),
  },
  {
    pattern: new RegExp(`(?:^|/)${year}-${two}-${two}/(?:[^/]+/)*${two}\\.${two}\\.${two}-`),
    wall: (m) => wall(m, [1, 2, 3, 4, 5, 6]),
  },
  {
    pattern: new RegExp(`(?:^|[^0-9])${year}${two}${two}${two}${two}${two}(?:\\d{3})?(?![0-9])`),
    wall: (m) => wall(m, [1, 2, 3, 4, 5, 6]),
  },
  {
    pattern: new RegExp(`(?:^|[^0-9])${year}${two}${two}[-_T ]${two}${two}${two}(?![0-9])`),
    wall: (m) => wall(m, [1, 2, 3, 4, 5, 6]),
  },
];

function wall(m: RegExpExecArray, groups: readonly number[]): WallTime {
  const [y, mo, d, h, mi, s] = groups.map((g) => Number(m[g]));
  return { year: y!, month: mo!, day: d!, hour: h!, minute: mi!, second: s! };
}

/** The camera's wall time in a file's path (relative to its camera folder), or undefined. Pure. */
export function wallTimeFromFileName(relPath: string): WallTime | undefined {
  const normalised = relPath.replaceAll('\\', '/');
  for (const form of FILE_NAME_FORMS) {
    const m = form.pattern.exec(normalised);
    if (m === null) continue;
    const w = form.wall(m);
    if (validWallTime(w)) return w;
  }
  return undefined;
}

/**
 * When a picture was taken, as the camera says, best source first: EXIF DateTimeOriginal (at its OffsetTimeOriginal
 * when the camera wrote one, else in the site's timezone, as cameras keep local time), then a time in the file's
 * name or folders (site timezone), then the file's modification time. Garbage in one source falls through to the
 * next; what is implausible (the future, before 2000) is left to `saneCaptureTime`, which flags it. Pure.
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
