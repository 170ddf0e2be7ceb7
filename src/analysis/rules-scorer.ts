import { type HouseMode, isZoneArmed } from '../domain/arming.js';
import { isNightHour } from '../domain/daylight.js';
import { type AppliedHint, applyScoreHints, type Fact } from '../domain/facts.js';
import { clampScore, type RiskLevel, riskLevelFor } from '../domain/risk.js';
import type { Weekday } from '../domain/schedule.js';
import type { ZoneHit } from '../domain/zones.js';

/**
 * Built-in rules scorer: deterministic risk for an event when no LLM is configured or it failed. Calibrated
 * like the LLM prompt: most everyday events are low. The score is the highest of the object groups present:
 *
 * person (base 12)
 *   night (dusk to dawn at the site; 22:00–05:59 without a location)   +25
 *   entry_point zone                  +10 at night, +5 by day
 *   an armed zone (switch ON, house armed), or the camera's whole view armed (away, no zones)   +35
 *   house armed_away (nobody home)    +15
 *   2 people at once                  +8 at night or in an armed zone, else +3 (3+ people: +12 / +5)
 *   lingering (seen for >= 60 s, or >= 10 person detections) at night or in an armed zone   +25
 *   back again at night or in an armed zone (>= 2 earlier events on the camera within the hour)  +25;
 *   by day, busy (>= 3 earlier events)  +5
 *   best person confidence < 0.7      -3
 *   capped at 84 (high) unless corroborated by 2+ people, lingering or repeated visits: critical needs more than
 *   one person seen once.
 * vehicle (car, truck, bus, motorcycle, bicycle, unknown types; base 5): night +10, armed zone +20, armed_away +5
 * animal (dog, cat, bird; base 2): night +3, armed zone +3
 *
 * Lingering and returning are what separate a prowler from a passer-by at night: a person who stays a minute at a
 * door, or comes back twice within the hour, is high even with no zone armed (37 + 25 = 62).
 *
 * Resulting bands (examples): car or animal by day 2–5 low; person by day disarmed 12–17 low; person at night
 * 37–52 medium; person in an armed zone while armed_away 62 high; person at night in an armed entry_point 82
 * high; two people at night in an armed entry_point 90 critical.
 *
 * Then the score hints of the facts the enabled features gave (e.g. the owner's feedback on this camera: see
 * src/features/owner-feedback/), judged at the level reached; critical is never lowered.
 */

export interface ScorerInput {
  cameraName: string;
  /** Detections per object type. */
  objectCounts: Readonly<Record<string, number>>;
  /** Best confidence per object type. */
  maxConfidence: Readonly<Record<string, number>>;
  /** Most objects of a type seen in one frame (defaults to 1 for each type present). */
  maxInOneFrame?: Readonly<Record<string, number>>;
  detectionCount: number;
  /** Local wall-clock hour 0–23 at the camera's site. */
  localHour: number;
  /** Local minute 0–59 (for the summary's exact time); absent: :00. */
  localMinute?: number;
  /** Night at the site (by the sun, see domain/daylight.ts); absent: by `localHour`, 22:00–05:59. */
  night?: boolean;
  /** Seconds from the first to the last detection of the visit; absent: 0. */
  durationSeconds?: number;
  /** The camera's whole view is armed (armed away, a camera without zones). */
  cameraArmed?: boolean;
  weekday: Weekday;
  zonesHit: readonly ZoneHit[];
  houseMode: HouseMode;
  /** Events on this camera in the recent past (the adapter picks the window, e.g. one hour). */
  recentEventsOnCamera: number;
  /** What the enabled features know about the visit; their score hints move the score. */
  facts: readonly Fact[];
}

export interface ScoreFactor {
  label: string;
  points: number;
}

export interface RulesAssessment {
  riskScore: number;
  riskLevel: RiskLevel;
  summary: string;
  reasoning: string;
  recommendedAction: string;
  factors: ScoreFactor[];
}

const ANIMALS = new Set(['dog', 'cat', 'bird']);
const UNCORROBORATED_CAP = 84;
const WEEKDAY_NAMES: Readonly<Record<Weekday, string>> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};
const ACTIONS: Readonly<Record<RiskLevel, string>> = {
  low: 'No action needed.',
  medium: 'Review the footage when convenient.',
  high: 'Check the camera feed now and verify who is there.',
  critical: 'Check the camera feed immediately; contact the authorities if the intrusion is confirmed.',
};

export { isNightHour } from '../domain/daylight.js';

/** A person seen this long in one visit is lingering. */
export const LINGER_SECONDS = 60;
/** ... or this many person detections in one visit (snapshots seconds apart). */
export const LINGER_DETECTIONS = 10;

interface Situation {
  night: boolean;
  entry: boolean;
  armedZone: boolean;
  away: boolean;
}

function situationOf(input: ScorerInput): Situation {
  return {
    night: input.night ?? isNightHour(input.localHour),
    entry: input.zonesHit.some((z) => z.zoneType === 'entry_point'),
    armedZone: input.cameraArmed === true || input.zonesHit.some((z) => isZoneArmed(input.houseMode, z.armed)),
    away: input.houseMode === 'armed_away',
  };
}

function personFactors(input: ScorerInput, s: Situation): { factors: ScoreFactor[]; corroborated: boolean } {
  const f: ScoreFactor[] = [{ label: 'person present', points: 12 }];
  const alert = s.night || s.armedZone;
  if (s.night) f.push({ label: `night (${clock(input)})`, points: 25 });
  if (s.entry) f.push({ label: 'at an entry point', points: s.night ? 10 : 5 });
  const armedZone = input.zonesHit.some((z) => isZoneArmed(input.houseMode, z.armed));
  if (armedZone) f.push({ label: 'in an armed zone', points: 35 });
  else if (s.armedZone) f.push({ label: 'camera armed (away, no zones)', points: 35 });
  if (s.away) f.push({ label: 'house armed away', points: 15 });
  const people = input.maxInOneFrame?.person ?? 1;
  if (people >= 3) f.push({ label: `${people} people at once`, points: alert ? 12 : 5 });
  else if (people === 2) f.push({ label: '2 people at once', points: alert ? 8 : 3 });
  const seconds = Math.max(0, Math.round(input.durationSeconds ?? 0));
  const sightings = input.objectCounts.person ?? 0;
  const lingering = alert && (seconds >= LINGER_SECONDS || sightings >= LINGER_DETECTIONS);
  if (lingering) {
    f.push({ label: `lingering: seen for ${duration(seconds)} (${sightings} person detections)`, points: 25 });
  }
  const earlier = input.recentEventsOnCamera;
  const returning = alert && earlier >= 2;
  if (returning) f.push({ label: `back again: ${earlier} earlier events on this camera within the hour`, points: 25 });
  else if (earlier >= 3) f.push({ label: `${earlier} recent events on this camera`, points: 5 });
  if ((input.maxConfidence.person ?? 0) < 0.7) f.push({ label: 'uncertain person detection', points: -3 });
  return { factors: f, corroborated: people >= 2 || lingering || returning || earlier >= 3 };
}

function vehicleFactors(s: Situation): ScoreFactor[] {
  const f: ScoreFactor[] = [{ label: 'vehicle or other object present', points: 5 }];
  if (s.night) f.push({ label: 'night', points: 10 });
  if (s.armedZone) f.push({ label: 'in an armed zone', points: 20 });
  if (s.away) f.push({ label: 'house armed away', points: 5 });
  return f;
}

function animalFactors(s: Situation): ScoreFactor[] {
  const f: ScoreFactor[] = [{ label: 'animal present', points: 2 }];
  if (s.night) f.push({ label: 'night', points: 3 });
  if (s.armedZone) f.push({ label: 'in an armed zone', points: 3 });
  return f;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The local time of the event, exact to the minute: `23:40`. */
function clock(input: ScorerInput): string {
  return `${pad2(input.localHour)}:${pad2(input.localMinute ?? 0)}`;
}

/** `45 s`, `6 min 20 s`, `1 h 2 min`. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min${seconds % 60 === 0 ? '' : ` ${seconds % 60} s`}`;
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${Math.floor(seconds / 3600)} h${minutes === 0 ? '' : ` ${minutes} min`}`;
}

const total = (factors: readonly ScoreFactor[]) => factors.reduce((sum, f) => sum + f.points, 0);

/** Scores an event from its facts alone. Pure and deterministic. */
export function scoreEvent(input: ScorerInput): RulesAssessment {
  const s = situationOf(input);
  const types = Object.keys(input.objectCounts).filter((t) => (input.objectCounts[t] ?? 0) > 0);
  const candidates: { factors: ScoreFactor[]; cap: number }[] = [];
  if (types.includes('person')) {
    const person = personFactors(input, s);
    candidates.push({ factors: person.factors, cap: person.corroborated ? 100 : UNCORROBORATED_CAP });
  }
  if (types.some((t) => t !== 'person' && !ANIMALS.has(t))) candidates.push({ factors: vehicleFactors(s), cap: 100 });
  if (types.some((t) => ANIMALS.has(t))) candidates.push({ factors: animalFactors(s), cap: 100 });
  let best: { factors: ScoreFactor[]; score: number; capped: boolean } = { factors: [], score: 0, capped: false };
  for (const c of candidates) {
    const raw = clampScore(total(c.factors));
    const score = Math.min(raw, c.cap);
    if (score > best.score || best.factors.length === 0) best = { factors: c.factors, score, capped: raw > c.cap };
  }
  const hinted = applyScoreHints(best.score, input.facts);
  const factors = [...best.factors, ...hinted.applied];
  const score = hinted.score;
  const riskLevel = riskLevelFor(score);
  return {
    riskScore: score,
    riskLevel,
    summary: summarise(input, types, s),
    reasoning: explain(best.factors, hinted.applied, score, riskLevel, best.capped),
    recommendedAction: ACTIONS[riskLevel],
    factors,
  };
}

function explain(
  factors: readonly ScoreFactor[],
  hints: readonly AppliedHint[],
  score: number,
  level: RiskLevel,
  capped: boolean,
): string {
  if (factors.length === 0) return `Rules scorer: no objects detected = ${score} (${level}).`;
  const sign = (f: ScoreFactor) => `${f.label} ${f.points >= 0 ? '+' : ''}${f.points}`;
  const cap = capped ? `; capped at ${UNCORROBORATED_CAP} (one person, seen once)` : '';
  const moved = hints.map((h) => `; ${sign(h)}`).join('');
  return `Rules scorer: ${factors.map(sign).join('; ')}${cap}${moved} = ${score} (${level}).`;
}

function typeOrder(a: string, b: string): number {
  const rank = (t: string) => (t === 'person' ? 0 : ANIMALS.has(t) ? 2 : 1);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function nounPhrase(type: string, n: number): string {
  if (n === 1) return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  if (type === 'person') return `${n} people`;
  return `${n} ${/(s|sh|ch|x)$/.test(type) ? `${type}es` : `${type}s`}`;
}

function summarise(input: ScorerInput, types: readonly string[], s: Situation): string {
  const when = `${s.night ? 'at night' : 'during the day'} (${WEEKDAY_NAMES[input.weekday]} ${clock(input)})`;
  if (types.length === 0) return `No objects at ${input.cameraName} ${when}.`;
  const nouns = [...types].sort(typeOrder).map((t) => nounPhrase(t, Math.max(1, input.maxInOneFrame?.[t] ?? 1)));
  const objects = nouns.length === 1 ? nouns[0]! : `${nouns.slice(0, -1).join(', ')} and ${nouns.at(-1)!}`;
  const zones = input.zonesHit.map((z) => {
    const armed = isZoneArmed(input.houseMode, z.armed) ? ', armed' : '';
    return `${z.name} (${z.zoneType.replaceAll('_', ' ')}${armed})`;
  });
  if (zones.length === 0 && input.cameraArmed === true) zones.push('the whole view (armed away)');
  const where = zones.length === 0 ? '' : ` in ${zones.join(', ')}`;
  return `${objects.charAt(0).toUpperCase()}${objects.slice(1)} at ${input.cameraName}${where} ${when}.`;
}

/** Per-type statistics of a batch's detections; `frame` groups detections of one image (e.g. media file id). */
export function objectStats(
  detections: readonly { objectType: string; confidence: number; frame?: string | number }[],
) {
  const objectCounts: Record<string, number> = {};
  const maxConfidence: Record<string, number> = {};
  const perFrame = new Map<string, number>();
  const maxInOneFrame: Record<string, number> = {};
  for (const d of detections) {
    objectCounts[d.objectType] = (objectCounts[d.objectType] ?? 0) + 1;
    maxConfidence[d.objectType] = Math.max(maxConfidence[d.objectType] ?? 0, d.confidence);
    const key = `${d.frame ?? ''}\u0000${d.objectType}`;
    const inFrame = d.frame === undefined ? 1 : (perFrame.get(key) ?? 0) + 1;
    perFrame.set(key, inFrame);
    maxInOneFrame[d.objectType] = Math.max(maxInOneFrame[d.objectType] ?? 0, inFrame);
  }
  return { objectCounts, maxConfidence, maxInOneFrame, detectionCount: detections.length };
}
