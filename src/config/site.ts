import type { SiteLocation } from '../domain/daylight.js';
import { AppError } from '../lib/errors.js';
import type { Config } from './schema.js';

/** The site's IANA timezone: configured, else the process's (TZ). */
export function siteTimeZone(config: Pick<Config, 'site'>): string {
  return config.site.timezone === '' ? Intl.DateTimeFormat().resolvedOptions().timeZone : config.site.timezone;
}

/** The site's location for the sun (night from dusk to dawn), or null (night is 22:00-05:59). */
export function siteLocation(config: Pick<Config, 'site'>): SiteLocation | null {
  const latitude = config.site.latitude ?? null;
  const longitude = config.site.longitude ?? null;
  if (latitude === null && longitude === null) return null;
  if (latitude === null || longitude === null) {
    throw new AppError(
      'CONFIG_INVALID',
      `site.latitude and site.longitude go together: set both (night from dusk to dawn) or neither (22:00-05:59); ` +
        `got latitude ${String(latitude)}, longitude ${String(longitude)}`,
    );
  }
  return { latitude, longitude };
}
