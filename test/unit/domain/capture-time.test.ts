import { describe, expect, it } from 'vitest';
import {
  captureTimeOf,
  EARLIEST_CAPTURE_MS,
  FUTURE_TOLERANCE_MS,
  parseUtcOffset,
  saneCaptureTime,
  wallTimeFromFileName,
  wallTimeToInstant,
} from '../../../src/domain/capture-time.js';

const arrived = Date.UTC(2026, 11, 5, 12, 0, 0);

describe('saneCaptureTime', () => {
  it('believes a capture time in the past, however old (a backlog, an import)', () => {
    const lastWeek = arrived - 7 * 86_400_000;
    expect(saneCaptureTime(lastWeek, arrived)).toStrictEqual({ at: lastWeek, clamped: false });
    expect(saneCaptureTime(EARLIEST_CAPTURE_MS, arrived)).toStrictEqual({ at: EARLIEST_CAPTURE_MS, clamped: false });
  });

  it('takes arrival for a clock a little ahead, and flags one far ahead or from before 2001', () => {
    expect(saneCaptureTime(arrived + 60_000, arrived)).toStrictEqual({ at: arrived, clamped: false });
    expect(saneCaptureTime(arrived + FUTURE_TOLERANCE_MS + 1, arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(Date.UTC(2099, 0, 1), arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(5_000, arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(Number.NaN, arrived)).toStrictEqual({ at: arrived, clamped: true });
  });
});

describe('capture time from the camera: EXIF, the file name, the file time', () => {
  const at = (iso: string) => Date.parse(iso);
  const w = (year: number, month: number, day: number, hour: number, minute: number, second: number) => ({
    ...{ year, month, day },
    ...{ hour, minute, second },
  });

  it.each([
    ['Dahua / Amcrest snapshot folders', '2023-11-15/001/jpg/14/30/22[M][0@0][0].jpg'],
    ['Dahua / Amcrest clips', '2023-11-15/001/dav/14/14.30.22-14.30.45[M][0@0][0].mp4'],
    ['Hikvision (with milliseconds)', '192.168.1.64_01_20231115143022123_MOTION_DETECTION.jpg'],
    ['Reolink', 'Front_00_20231115143022.jpg'],
    ['Foscam alarm', 'MDAlarm_20231115-143022.jpg'],
    ['Foscam schedule', 'Schedule_20231115-143022.jpg'],
    ['date_time with a prefix', 'image20231115_143022.jpg'],
    ['date_time_sequence', 'upload/20231115_143022_1234.jpg'],
    ['date_time with milliseconds', 'Front.20231115_143022123.jpg'],
    ['ISO-like', 'cam 20231115T143022.jpg'],
    ['dashed date, dashed time', '2023-11-15_14-30-22.jpg'],
    ['dashed date, dotted time', 'image_2023-11-15 14.30.22.jpg'],
    ['the file over its export folder', 'Export_20240101_120000/IMG_20231115_143022.jpg'],
    ['a dated folder when the file has none', 'Export_20231115_143022/IMG_0001.jpg'],
  ])('reads %s names: %s', (_camera, name) => {
    expect(wallTimeFromFileName(name)).toStrictEqual(w(2023, 11, 15, 14, 30, 22));
  });

  it.each([
    ['no time', 'person_astronaut.png'],
    ['a counter', 'IMG_1234.jpg'],
    ['digits inside a longer number', '99920231115143022.jpg'],
    ['month 13', '20231315_143022.jpg'],
    ['February 30th', 'Front_00_20230230143022.jpg'],
    ['25 o clock', 'MDAlarm_20231115-253022.jpg'],
  ])('finds none in a name with %s: %s', (_why, name) => {
    expect(wallTimeFromFileName(name)).toBeUndefined();
  });

  it('reads the hour, minute and second of a Dahua path from its last folders and the file, not middle ones', () => {
    expect(wallTimeFromFileName('2023-11-15/001/10/11/12/13.jpg')).toStrictEqual(w(2023, 11, 15, 11, 12, 13));
  });

  it('reads a wall time in the site timezone, through daylight-saving changes', () => {
    expect(wallTimeToInstant(w(2026, 7, 1, 3, 10, 0), 'Europe/Berlin')).toBe(at('2026-07-01T01:10:00Z'));
    expect(wallTimeToInstant(w(2026, 1, 1, 3, 10, 0), 'America/New_York')).toBe(at('2026-01-01T08:10:00Z'));
    // 02:30 does not exist on the spring-forward night: read as the time after the gap (03:30 CEST).
    expect(wallTimeToInstant(w(2026, 3, 29, 2, 30, 0), 'Europe/Berlin')).toBe(at('2026-03-29T01:30:00Z'));
    // 02:30 happens twice on the fall-back night: the earlier one (still CEST).
    expect(wallTimeToInstant(w(2026, 10, 25, 2, 30, 0), 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
    // Zones a day ahead of UTC: Auckland's fall-back overlap (the earlier), its spring-forward gap (after it), and
    // Chatham (+12:45/+13:45) on an ordinary night.
    expect(wallTimeToInstant(w(2024, 4, 7, 2, 30, 0), 'Pacific/Auckland')).toBe(at('2024-04-06T13:30:00Z'));
    expect(wallTimeToInstant(w(2024, 9, 29, 2, 30, 0), 'Pacific/Auckland')).toBe(at('2024-09-28T14:30:00Z'));
    expect(wallTimeToInstant(w(2010, 4, 4, 2, 0, 0), 'Pacific/Chatham')).toBe(at('2010-04-03T12:15:00Z'));
    // A camera that wrote its offset is believed over the site's zone.
    expect(wallTimeToInstant(w(2026, 1, 1, 3, 10, 0), 'Europe/Berlin', 330)).toBe(at('2025-12-31T21:40:00Z'));
  });

  it('parses UTC offsets as EXIF writes them, and nothing else', () => {
    expect([parseUtcOffset('+02:00'), parseUtcOffset('-0530'), parseUtcOffset('Z')]).toStrictEqual([120, -330, 0]);
    expect([parseUtcOffset('+25:00'), parseUtcOffset('local'), parseUtcOffset(2)]).toStrictEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('takes EXIF first, then the name, then the file time; a garbage source falls through to the next', () => {
    const base = { relPath: 'Front_00_20231115143022.jpg', fileTime: at('2026-12-06T12:00:00Z'), timeZone: 'UTC' };
    const exif = { dateTimeOriginal: w(2026, 12, 6, 3, 10, 0), offset: '+01:00' };
    expect(captureTimeOf({ ...base, exif })).toStrictEqual({ at: at('2026-12-06T02:10:00Z'), source: 'exif' });
    const garbage = { dateTimeOriginal: w(2026, 2, 30, 3, 10, 0) };
    expect(captureTimeOf({ ...base, exif: garbage })).toStrictEqual({
      at: at('2023-11-15T14:30:22Z'),
      source: 'file_name',
    });
    expect(captureTimeOf({ ...base, relPath: 'snap.jpg', exif: {} })).toStrictEqual({
      at: base.fileTime,
      source: 'file_time',
    });
  });

  it('leaves an implausible camera time (the future, 1970) to saneCaptureTime, which flags it', () => {
    const arrived = at('2026-12-06T12:00:00Z');
    const future = captureTimeOf({
      exif: { dateTimeOriginal: w(2099, 1, 1, 0, 0, 0) },
      relPath: 'a.jpg',
      fileTime: arrived,
      timeZone: 'UTC',
    });
    expect(saneCaptureTime(future.at, arrived)).toStrictEqual({ at: arrived, clamped: true });
    const epoch = captureTimeOf({
      exif: { dateTimeOriginal: w(1970, 1, 1, 0, 0, 5) },
      relPath: 'a.jpg',
      fileTime: arrived,
      timeZone: 'UTC',
    });
    expect(saneCaptureTime(epoch.at, arrived)).toStrictEqual({ at: arrived, clamped: true });
  });
});
