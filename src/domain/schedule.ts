import { AppError } from '../lib/errors.js';

/**
 * Wall-clock time in an IANA timezone (through Intl, so DST is the zone's own) and weekly schedules.
 *
 * A schedule is `{days?, start, end, timezone?}` with `HH:MM` times; `end` is exclusive. When `end` is earlier
 * than `start` the range runs overnight, and `days` name the day the range STARTS on: `{days: ['fri'],
 * start: '22:00', end: '06:00'}` covers Friday 22:00 to Saturday 06:00. `start === end` means all day. No
 * `days` (or an empty list) means every day. Without its own `timezone`, a schedule uses the site's.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Schedule {
  days?: readonly Weekday[];
  /** `HH:MM`, 24-hour. */
  start: string;
  /** `HH:MM`, 24-hour, exclusive; earlier than `start` for an overnight range. */
  end: string;
  /** IANA timezone; the site's when absent. */
  timezone?: string;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  hour: number;
  minute: number;
  /** hour * 60 + minute. */
  minuteOfDay: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const SHORT_WEEKDAYS: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

export function isWeekday(value: unknown): value is Weekday {
  return typeof value === 'string' && (WEEKDAYS as readonly string[]).includes(value);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time of an instant in `timeZone`; an unknown timezone throws INVALID_INPUT naming it. */
export function localTime(at: Date | number, timeZone: string): LocalTime {
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = formatterFor(timeZone);
  } catch (cause) {
    throw new AppError('INVALID_INPUT', `unknown timezone "${timeZone}": use an IANA name such as Europe/Berlin`, {
      cause,
      permanent: true,
    });
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(at)) parts[part.type] = part.value;
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: SHORT_WEEKDAYS[parts.weekday ?? ''] ?? 'mon',
    hour,
    minute,
    minuteOfDay: hour * 60 + minute,
  };
}

/** Minutes after midnight for `HH:MM` (00:00–23:59), undefined when malformed. */
export function parseHhMm(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

export function previousWeekday(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
}

/** Every problem with an untrusted schedule, each naming its field; empty when valid. */
export function validateSchedule(value: unknown, field = 'schedule'): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${field} must be an object {days?, start, end, timezone?}`];
  }
  const record = value as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of ['start', 'end'] as const) {
    if (parseHhMm(record[key]) === undefined) {
      errors.push(`${field}.${key} must be a 24-hour time "HH:MM", got ${JSON.stringify(record[key])}`);
    }
  }
  if (record.days !== undefined) {
    if (!Array.isArray(record.days)) errors.push(`${field}.days must be a list of ${WEEKDAYS.join(', ')}`);
    else {
      record.days.forEach((day: unknown, i) => {
        if (!isWeekday(day)) errors.push(`${field}.days[${i}] must be one of ${WEEKDAYS.join(', ')}`);
      });
    }
  }
  if (record.timezone !== undefined && (typeof record.timezone !== 'string' || !isValidTimeZone(record.timezone))) {
    errors.push(
      `${field}.timezone must be an IANA timezone such as Europe/Berlin, got ${JSON.stringify(record.timezone)}`,
    );
  }
  return errors;
}

/**
 * Whether `at` falls inside the schedule. Throws INVALID_INPUT for a malformed schedule (validate rules where
 * they enter with `validateSchedule`).
 */
export function scheduleActive(schedule: Schedule, at: Date | number, siteTimeZone: string): boolean {
  const start = parseHhMm(schedule.start);
  const end = parseHhMm(schedule.end);
  if (start === undefined || end === undefined) {
    throw new AppError('INVALID_INPUT', `schedule start/end must be "HH:MM", got ${schedule.start}-${schedule.end}`, {
      permanent: true,
    });
  }
  const local = localTime(at, schedule.timezone ?? siteTimeZone);
  const days = schedule.days === undefined || schedule.days.length === 0 ? WEEKDAYS : schedule.days;
  const now = local.minuteOfDay;
  if (start === end) return days.includes(local.weekday);
  if (start < end) return now >= start && now < end && days.includes(local.weekday);
  if (now >= start) return days.includes(local.weekday);
  if (now < end) return days.includes(previousWeekday(local.weekday));
  return false;
}
