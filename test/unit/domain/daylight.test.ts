import { describe, expect, it } from 'vitest';
import { isNightAt, isNightHour, sunAltitude } from '../../../src/domain/daylight.js';

const berlin = { latitude: 52.52, longitude: 13.405 };
const longyearbyen = { latitude: 78.22, longitude: 15.65 };

describe('night at the site', () => {
  it('follows the sun in Berlin: a December 17:10 is night, a June 22:10 is still day', () => {
    // 17:10 CET = 16:10 UTC on 5 December: sun far below civil twilight.
    expect(isNightAt(new Date('2026-12-05T16:10:00Z'), 17, berlin)).toBe(true);
    // 22:10 CEST = 20:10 UTC on 21 June: sun about 4° below the horizon, civil dusk not over.
    expect(isNightAt(new Date('2026-06-21T20:10:00Z'), 22, berlin)).toBe(false);
    // The fixed window gets both wrong.
    expect([isNightHour(17), isNightHour(22)]).toStrictEqual([false, true]);
  });

  it('turns at civil twilight (-6°) on a December evening in Berlin', () => {
    const dusk = new Date('2026-12-05T15:40:00Z'); // about 16:40 local
    const before = new Date(dusk.getTime() - 10 * 60_000);
    const after = new Date(dusk.getTime() + 10 * 60_000);
    expect(sunAltitude(before, berlin)).toBeGreaterThan(-6);
    expect(sunAltitude(after, berlin)).toBeLessThan(-6);
    expect([isNightAt(before, 16, berlin), isNightAt(after, 16, berlin)]).toStrictEqual([false, true]);
  });

  it('has no night in a polar summer and no day in a polar winter', () => {
    expect(isNightAt(new Date('2026-06-21T23:00:00Z'), 1, longyearbyen)).toBe(false);
    expect(isNightAt(new Date('2026-12-21T11:00:00Z'), 12, longyearbyen)).toBe(true);
  });

  it('falls back to 22:00-05:59 without a location', () => {
    const noon = new Date('2026-12-05T11:00:00Z');
    expect([21, 22, 0, 5, 6].map((h) => isNightAt(noon, h, null))).toStrictEqual([false, true, true, true, false]);
  });
});
