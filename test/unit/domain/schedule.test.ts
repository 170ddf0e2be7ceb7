import { describe, expect, it } from 'vitest';
import {
  isValidTimeZone,
  localTime,
  parseHhMm,
  previousWeekday,
  type Schedule,
  scheduleActive,
  validateSchedule,
} from '../../../src/domain/schedule.js';

const at = (iso: string) => new Date(iso);

describe('localTime', () => {
  it('gives the wall clock of the zone, DST included', () => {
    expect(localTime(at('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toStrictEqual({
      year: 2026,
      month: 3,
      day: 29,
      weekday: 'sun',
      hour: 1,
      minute: 30,
      minuteOfDay: 90,
    });
    // One hour later in UTC is two hours later on the wall: 02:00 CET jumps to 03:00 CEST.
    expect(localTime(at('2026-03-29T01:30:00Z'), 'Europe/Berlin').hour).toBe(3);
    expect(localTime(at('2026-01-10T04:30:00Z'), 'America/New_York')).toMatchObject({ weekday: 'fri', hour: 23 });
    expect(localTime(at('2026-01-10T00:00:00Z'), 'UTC')).toMatchObject({ weekday: 'sat', hour: 0, minute: 0 });
  });

  it('throws a clear error for an unknown timezone', () => {
    expect(() => localTime(0, 'Mars/Olympus')).toThrowError(/unknown timezone "Mars\/Olympus": use an IANA name/);
    expect([isValidTimeZone('Europe/Berlin'), isValidTimeZone('Mars/Olympus')]).toStrictEqual([true, false]);
  });
});

describe('parseHhMm and previousWeekday', () => {
  it('parses 24-hour times and rejects everything else', () => {
    expect(['00:00', '06:30', '23:59', '24:00', '7:00', '12:60', 'noon', 630].map(parseHhMm)).toStrictEqual([
      0,
      390,
      1439,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('wraps Monday back to Sunday', () => {
    expect([previousWeekday('mon'), previousWeekday('sat')]).toStrictEqual(['sun', 'fri']);
  });
});

describe('scheduleActive', () => {
  it('handles a same-day range with an exclusive end', () => {
    const office: Schedule = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };
    // 2026-01-05 is a Monday.
    expect(scheduleActive(office, at('2026-01-05T08:59:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(office, at('2026-01-05T09:00:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(office, at('2026-01-05T16:59:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(office, at('2026-01-05T17:00:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(office, at('2026-01-10T12:00:00Z'), 'UTC')).toBe(false);
  });

  it('runs an overnight range past midnight in New York, owned by its start day', () => {
    const fridayNight: Schedule = { days: ['fri'], start: '23:00', end: '07:00', timezone: 'America/New_York' };
    // Friday 2026-01-09 23:30 EST is already Saturday 04:30 in UTC.
    expect(scheduleActive(fridayNight, at('2026-01-10T04:30:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(fridayNight, at('2026-01-10T11:59:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(fridayNight, at('2026-01-10T12:00:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(fridayNight, at('2026-01-10T03:59:00Z'), 'UTC')).toBe(false);
    // Saturday night is not Friday night.
    expect(scheduleActive(fridayNight, at('2026-01-11T04:30:00Z'), 'UTC')).toBe(false);
    // Thursday night's early hours on Friday morning are not covered either.
    expect(scheduleActive(fridayNight, at('2026-01-09T10:00:00Z'), 'UTC')).toBe(false);
  });

  it('follows the spring-forward night in New York', () => {
    const saturdayNight: Schedule = { days: ['sat'], start: '22:00', end: '06:00' };
    // Clocks go 02:00 EST -> 03:00 EDT on Sunday 2026-03-08 (07:00 UTC).
    expect(scheduleActive(saturdayNight, at('2026-03-08T06:30:00Z'), 'America/New_York')).toBe(true);
    expect(scheduleActive(saturdayNight, at('2026-03-08T09:59:00Z'), 'America/New_York')).toBe(true);
    // 10:30 UTC is 06:30 EDT (it would still be 05:30 at the winter offset).
    expect(scheduleActive(saturdayNight, at('2026-03-08T10:30:00Z'), 'America/New_York')).toBe(false);
  });

  it('follows both DST changes in Berlin', () => {
    const saturdayNight: Schedule = { days: ['sat'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' };
    // Spring: 02:00 CET -> 03:00 CEST on Sunday 2026-03-29.
    expect(scheduleActive(saturdayNight, at('2026-03-28T20:59:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(saturdayNight, at('2026-03-28T21:00:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(saturdayNight, at('2026-03-29T00:30:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(saturdayNight, at('2026-03-29T03:59:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(saturdayNight, at('2026-03-29T04:00:00Z'), 'UTC')).toBe(false);
    // Autumn: 03:00 CEST -> 02:00 CET on Sunday 2026-10-25; 05:30 UTC is 06:30 CET, 04:30 UTC is 05:30 CET.
    expect(scheduleActive(saturdayNight, at('2026-10-25T04:30:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive(saturdayNight, at('2026-10-25T05:00:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(saturdayNight, at('2026-10-24T19:59:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive(saturdayNight, at('2026-10-24T20:00:00Z'), 'UTC')).toBe(true);
  });

  it('treats no days as every day and start = end as all day', () => {
    expect(scheduleActive({ start: '22:00', end: '06:00' }, at('2026-01-07T03:00:00Z'), 'UTC')).toBe(true);
    expect(scheduleActive({ days: [], start: '22:00', end: '06:00' }, at('2026-01-07T12:00:00Z'), 'UTC')).toBe(false);
    expect(scheduleActive({ days: ['wed'], start: '00:00', end: '00:00' }, at('2026-01-07T12:00:00Z'), 'UTC')).toBe(
      true,
    );
    expect(scheduleActive({ days: ['thu'], start: '00:00', end: '00:00' }, at('2026-01-07T12:00:00Z'), 'UTC')).toBe(
      false,
    );
  });

  it('throws for a malformed time', () => {
    expect(() => scheduleActive({ start: '9am', end: '17:00' }, 0, 'UTC')).toThrowError(/must be "HH:MM"/);
  });
});

describe('validateSchedule', () => {
  it('accepts a valid schedule', () => {
    expect(validateSchedule({ days: ['mon'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' })).toStrictEqual(
      [],
    );
  });

  it('names every bad field', () => {
    expect(validateSchedule({ days: ['mon', 'funday'], start: '25:00', timezone: 'Nowhere/City' })).toStrictEqual([
      'schedule.start must be a 24-hour time "HH:MM", got "25:00"',
      'schedule.end must be a 24-hour time "HH:MM", got undefined',
      'schedule.days[1] must be one of mon, tue, wed, thu, fri, sat, sun',
      'schedule.timezone must be an IANA timezone such as Europe/Berlin, got "Nowhere/City"',
    ]);
    expect(validateSchedule('nightly', 'rules[0].schedule')).toStrictEqual([
      'rules[0].schedule must be an object {days?, start, end, timezone?}',
    ]);
  });
});
