import { getPosition } from 'suncalc';

/**
 * Night at the site: from dusk to dawn, i.e. while the sun is more than 6° below the horizon (civil twilight; too
 * dark to see a face without light), computed for the site's latitude and longitude. So night starts at 16:40 in a
 * Berlin December and at 22:10 in June, and never in a polar summer. Without a location the fixed window
 * 22:00-05:59 local time stands in.
 */

export interface SiteLocation {
  /** Degrees north (negative: south), -90..90. */
  latitude: number;
  /** Degrees east (negative: west), -180..180. */
  longitude: number;
}

/** Civil twilight: the sun's centre this many degrees below the horizon ends dusk and starts dawn. */
export const CIVIL_TWILIGHT_DEGREES = -6;

/** The fallback night window by local hour when the site has no location: 22:00-05:59. */
export function isNightHour(hour: number): boolean {
  return hour >= 22 || hour < 6;
}

/** The sun's altitude above the horizon at the site, in degrees (negative below). */
export function sunAltitude(at: Date, location: SiteLocation): number {
  return getPosition(at, location.latitude, location.longitude).altitude;
}

/** Whether it is night at `at`: by the sun when the site has a location, else by the local hour. */
export function isNightAt(at: Date, localHour: number, location: SiteLocation | null): boolean {
  if (location === null) return isNightHour(localHour);
  return sunAltitude(at, location) < CIVIL_TWILIGHT_DEGREES;
}
