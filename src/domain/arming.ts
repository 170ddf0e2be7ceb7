/**
 * Arming state: the house mode (the Home Assistant alarm panel) and the per-zone arming switches.
 *
 * A zone's switch says whether the zone takes part when the house is armed (OFF bypasses it). A zone is
 * therefore armed right now only when its switch is ON and the house mode is not `disarmed`: with the house
 * disarmed, no zone is armed, whatever its switch says. Every outdoor zone counts as perimeter, so
 * `armed_home`, `armed_away` and `armed_night` all arm the switched-on zones.
 */

export const HOUSE_MODES = ['disarmed', 'armed_home', 'armed_away', 'armed_night'] as const;
export type HouseMode = (typeof HOUSE_MODES)[number];

export function isHouseMode(value: unknown): value is HouseMode {
  return typeof value === 'string' && (HOUSE_MODES as readonly string[]).includes(value);
}

export function isHouseArmed(mode: HouseMode): boolean {
  return mode !== 'disarmed';
}

/** Whether a zone is armed now, given the house mode and the zone's own arming switch. */
export function isZoneArmed(mode: HouseMode, zoneSwitchOn: boolean): boolean {
  return zoneSwitchOn && isHouseArmed(mode);
}

/**
 * Away arms every camera that has no zones, as a classic alarm's away mode arms every sensor: its whole view counts
 * as one armed zone. A camera can opt out (`armed_when_away` off, e.g. a camera inside the house a pet walks past).
 * A camera with zones is armed through its zones' switches only.
 */
export function isCameraArmed(mode: HouseMode, camera: { hasZones: boolean; armedWhenAway: boolean }): boolean {
  return mode === 'armed_away' && !camera.hasZones && camera.armedWhenAway;
}

/** Human wording for prompts and summaries: `armed_away` → `armed (away)`. */
export function describeHouseMode(mode: HouseMode): string {
  switch (mode) {
    case 'disarmed':
      return 'disarmed';
    case 'armed_home':
      return 'armed (home: residents are in)';
    case 'armed_away':
      return 'armed (away: nobody is home)';
    case 'armed_night':
      return 'armed (night: residents asleep)';
  }
}
