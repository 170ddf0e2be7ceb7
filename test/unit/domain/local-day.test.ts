import { describe, expect, it } from 'vitest';
import { startOfLocalDay } from '../../../src/domain/local-day.js';

const start = (at: string, timeZone: string) => startOfLocalDay(new Date(at), timeZone).toISOString();
const HOUR = 3_600_000;

/** "Events today" counts from the local midnight of the site's timezone, also on daylight-saving change days. */
describe('startOfLocalDay', () => {
  it.each([
    // Europe/Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST: midnight was still CET (+01:00).
    ['Europe/Berlin', '2026-03-29T00:30:00Z', '2026-03-28T23:00:00.000Z'], // 01:30 CET, before the change
    ['Europe/Berlin', '2026-03-29T10:00:00Z', '2026-03-28T23:00:00.000Z'], // 12:00 CEST: 11 h after midnight, not 12
    ['Europe/Berlin', '2026-03-29T21:59:59.999Z', '2026-03-28T23:00:00.000Z'], // the day's last instant
    ['Europe/Berlin', '2026-03-29T22:00:00Z', '2026-03-29T22:00:00.000Z'], // the next day, now CEST (+02:00)
    // Europe/Berlin falls back 2026-10-25 03:00 CEST -> 02:00 CET: midnight was CEST (+02:00).
    ['Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-24T22:00:00.000Z'], // 02:30 CEST
    ['Europe/Berlin', '2026-10-25T01:30:00Z', '2026-10-24T22:00:00.000Z'], // 02:30 CET, the hour again
    ['Europe/Berlin', '2026-10-25T12:00:00Z', '2026-10-24T22:00:00.000Z'], // 13:00 CET: 14 h after midnight
    ['Europe/Berlin', '2026-10-25T23:00:00Z', '2026-10-25T23:00:00.000Z'],
    // America/New_York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: midnight was EST (-05:00).
    ['America/New_York', '2026-03-08T06:30:00Z', '2026-03-08T05:00:00.000Z'], // 01:30 EST
    ['America/New_York', '2026-03-08T16:00:00Z', '2026-03-08T05:00:00.000Z'], // 12:00 EDT
    ['America/New_York', '2026-03-09T03:59:59.999Z', '2026-03-08T05:00:00.000Z'], // 23:59:59.999 EDT
    // America/New_York falls back 2026-11-01 02:00 EDT -> 01:00 EST: midnight was EDT (-04:00).
    ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01T04:00:00.000Z'], // 01:30 EDT
    ['America/New_York', '2026-11-01T06:30:00Z', '2026-11-01T04:00:00.000Z'], // 01:30 EST, the hour again
    ['America/New_York', '2026-11-01T18:00:00Z', '2026-11-01T04:00:00.000Z'], // 13:00 EST
    ['America/New_York', '2026-11-02T04:59:59.999Z', '2026-11-01T04:00:00.000Z'], // 23:59:59.999 EST
    // America/Santiago springs forward at midnight (2026-09-06 00:00 -> 01:00): the day starts at 01:00 -03:00.
    ['America/Santiago', '2026-09-06T15:00:00Z', '2026-09-06T04:00:00.000Z'],
    ['UTC', '2026-05-01T23:59:59.999Z', '2026-05-01T00:00:00.000Z'],
    ['UTC', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00.000Z'],
  ])('%s at %s starts at %s', (timeZone, at, expected) => {
    expect(start(at, timeZone)).toBe(expected);
  });

  it('makes change days 23 and 25 hours long', () => {
    const length = (dayStart: string, nextDay: string, timeZone: string) =>
      (startOfLocalDay(new Date(nextDay), timeZone).getTime() -
        startOfLocalDay(new Date(dayStart), timeZone).getTime()) /
      HOUR;
    expect(length('2026-03-29T12:00:00Z', '2026-03-30T12:00:00Z', 'Europe/Berlin')).toBe(23);
    expect(length('2026-10-25T12:00:00Z', '2026-10-26T12:00:00Z', 'Europe/Berlin')).toBe(25);
    expect(length('2026-03-08T17:00:00Z', '2026-03-09T17:00:00Z', 'America/New_York')).toBe(23);
    expect(length('2026-11-01T17:00:00Z', '2026-11-02T17:00:00Z', 'America/New_York')).toBe(25);
    expect(length('2026-06-01T12:00:00Z', '2026-06-02T12:00:00Z', 'Europe/Berlin')).toBe(24);
  });

  it('accepts a number of milliseconds and refuses an unknown timezone', () => {
    expect(startOfLocalDay(Date.parse('2026-03-29T10:00:00Z'), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
    expect(() => startOfLocalDay(0, 'Mars/Olympus')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
