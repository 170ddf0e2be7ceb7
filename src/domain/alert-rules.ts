import { AppError } from '../lib/errors.js';
import { type HouseMode, isZoneArmed } from './arming.js';
import { type RiskLevel, riskLevelRank } from './risk.js';
import { type Schedule, scheduleActive, validateSchedule } from './schedule.js';
import type { ZoneHit } from './zones.js';

export {
  ALERT_ACTIONS,
  ALERT_STATUSES,
  type AlertAction,
  type AlertStatus,
  canTransitionAlert,
  transitionAlert,
} from './alert-lifecycle.js';

/**
 * Alert rules (pure). Every enabled rule is evaluated for every new event; all of a rule's conditions must hold
 * (AND). A condition left null (or an empty list) does not constrain:
 * - risk_threshold: event risk score >= threshold.
 * - camera_ids: the event's camera is listed.
 * - zone_ids: the event touched at least one listed zone.
 * - object_types: the event has at least one listed object type.
 * - min_confidence: the best confidence among the event's objects (among the listed object types when
 *   object_types is set) is >= min_confidence.
 * - schedule: `now` is inside the weekly schedule (see schedule.ts; overnight ranges belong to their start day).
 * - house_modes: the house mode is listed (e.g. only while armed_away).
 * - armed_zone (require_armed_zone): the event touched a zone that is armed now (zone switch ON and the house
 *   armed; restricted to zone_ids when set), or, without zone_ids, the camera's whole view is armed (armed away,
 *   a camera without zones).
 * - unknown_person: someone in the event was not recognised as a household member. Without identity (the feature
 *   off) nobody is recognised: every person is unknown.
 * - person_ids: one of these household members was recognised in the event.
 * - ignore_trusted: not when everyone in the event was a trusted household member (full trust, within their
 *   schedule and allowed zones) and nobody else was seen.
 * An event raises at most one alert: the most severe matching rule (`chooseAlertRule`), naming the others.
 * An alert's dedup key comes from a template (default `{camera_id}:{rule_id}`); a rule stays quiet for its
 * cooldown after its last alert with the same key. Alert status: pending → delivered → acknowledged | dismissed,
 * and pending → acknowledged | dismissed directly.
 */

export interface AlertRule {
  id: string;
  name: string;
  enabled: boolean;
  /** Severity of the alerts this rule raises. */
  severity: RiskLevel;
  riskThreshold: number | null;
  cameraIds: readonly string[] | null;
  zoneIds: readonly string[] | null;
  objectTypes: readonly string[] | null;
  minConfidence: number | null;
  schedule: Schedule | null;
  houseModes: readonly HouseMode[] | null;
  requireArmedZone: boolean;
  /** Only when someone unknown was seen; absent: false. */
  unknownPerson?: boolean;
  /** Only when one of these household members was recognised; null or absent: anyone. */
  personIds?: readonly number[] | null;
  /** Never when everyone seen was a trusted household member; absent: false. */
  ignoreTrusted?: boolean;
  /** Placeholders in braces, see DEDUP_PLACEHOLDERS; null → DEFAULT_DEDUP_TEMPLATE. */
  dedupKeyTemplate: string | null;
  cooldownSeconds: number;
}

/** What a rule is matched against: one analysed event plus the arming state and the site timezone. */
export interface EventFacts {
  eventId: number | string;
  cameraId: string;
  riskScore: number;
  riskLevel: RiskLevel;
  /** Best detection confidence per object type; its keys are the event's object types. */
  confidenceByType: Readonly<Record<string, number>>;
  zones: readonly ZoneHit[];
  houseMode: HouseMode;
  /**
   * The camera's whole view is armed: the house is armed away and the camera has no zones (away arms every
   * camera, as a classic alarm arms every sensor; `armed_when_away` per camera turns that off). Absent: false.
   */
  cameraArmed?: boolean;
  /** IANA timezone of the site, for schedules without their own. */
  timezone: string;
  /** Who was seen (the identity feature); absent: nobody is recognised, so every person is unknown. */
  people?: PeopleSeen;
}

/** Who an event's people were, for the identity conditions. */
export interface PeopleSeen {
  /** People nobody recognised. */
  unknown: number;
  /** The household members recognised; `trusted`: full trust, within their schedule and allowed zones. */
  members: readonly { id: number; trusted: boolean }[];
}

/** The people of an event as the rules see them: without identity, each person is an unknown one. */
function peopleOf(facts: EventFacts): PeopleSeen {
  return facts.people ?? { unknown: 'person' in facts.confidenceByType ? 1 : 0, members: [] };
}

export type AlertCondition =
  | 'enabled'
  | 'risk_threshold'
  | 'camera_ids'
  | 'zone_ids'
  | 'object_types'
  | 'min_confidence'
  | 'schedule'
  | 'house_modes'
  | 'armed_zone'
  | 'unknown_person'
  | 'person_ids'
  | 'ignore_trusted';

export interface FailedCondition {
  condition: AlertCondition;
  reason: string;
}

export interface RuleMatch {
  matched: boolean;
  failedConditions: FailedCondition[];
}

export const DEFAULT_DEDUP_TEMPLATE = '{camera_id}:{rule_id}';
export const DEFAULT_COOLDOWN_SECONDS = 300;
export const DEDUP_PLACEHOLDERS = [
  'camera_id',
  'rule_id',
  'event_id',
  'risk_level',
  'severity',
  'object_type',
  'zone_id',
] as const;
export type DedupPlaceholder = (typeof DEDUP_PLACEHOLDERS)[number];

const constrains = <T>(list: readonly T[] | null): list is readonly T[] => list !== null && list.length > 0;

type Check = (rule: AlertRule, facts: EventFacts, now: Date | number) => string | undefined;

const CHECKS: readonly (readonly [AlertCondition, Check])[] = [
  ['enabled', (rule) => (rule.enabled ? undefined : 'rule is disabled')],
  [
    'risk_threshold',
    (rule, facts) =>
      rule.riskThreshold === null || facts.riskScore >= rule.riskThreshold
        ? undefined
        : `risk score ${facts.riskScore} is below ${rule.riskThreshold}`,
  ],
  [
    'camera_ids',
    (rule, facts) =>
      !constrains(rule.cameraIds) || rule.cameraIds.includes(facts.cameraId)
        ? undefined
        : `camera ${facts.cameraId} is not one of ${rule.cameraIds.join(', ')}`,
  ],
  [
    'zone_ids',
    (rule, facts) =>
      !constrains(rule.zoneIds) || facts.zones.some((z) => rule.zoneIds?.includes(z.id))
        ? undefined
        : `no zone of ${rule.zoneIds.join(', ')} was touched`,
  ],
  [
    'object_types',
    (rule, facts) =>
      !constrains(rule.objectTypes) || rule.objectTypes.some((t) => t in facts.confidenceByType)
        ? undefined
        : `no object of type ${rule.objectTypes.join(', ')}`,
  ],
  ['min_confidence', checkMinConfidence],
  ['schedule', checkSchedule],
  [
    'house_modes',
    (rule, facts) =>
      !constrains(rule.houseModes) || rule.houseModes.includes(facts.houseMode)
        ? undefined
        : `house mode ${facts.houseMode} is not one of ${rule.houseModes.join(', ')}`,
  ],
  ['armed_zone', checkArmedZone],
  [
    'unknown_person',
    (rule, facts) =>
      rule.unknownPerson !== true || peopleOf(facts).unknown > 0 ? undefined : 'everyone seen was recognised',
  ],
  [
    'person_ids',
    (rule, facts) =>
      !constrains(rule.personIds ?? null) ||
      peopleOf(facts).members.some((m) => rule.personIds?.includes(m.id) === true)
        ? undefined
        : `none of household members ${rule.personIds?.join(', ')} was recognised`,
  ],
  [
    'ignore_trusted',
    (rule, facts) => {
      if (rule.ignoreTrusted !== true) return undefined;
      const people = peopleOf(facts);
      const onlyTrusted = people.unknown === 0 && people.members.length > 0 && people.members.every((m) => m.trusted);
      return onlyTrusted ? 'everyone seen was a trusted household member' : undefined;
    },
  ],
];

function checkMinConfidence(rule: AlertRule, facts: EventFacts): string | undefined {
  if (rule.minConfidence === null) return undefined;
  const types = constrains(rule.objectTypes) ? rule.objectTypes : Object.keys(facts.confidenceByType);
  const best = Math.max(0, ...types.map((t) => facts.confidenceByType[t] ?? 0));
  return best >= rule.minConfidence ? undefined : `best confidence ${best} is below ${rule.minConfidence}`;
}

function checkSchedule(rule: AlertRule, facts: EventFacts, now: Date | number): string | undefined {
  if (rule.schedule === null) return undefined;
  try {
    return scheduleActive(rule.schedule, now, facts.timezone) ? undefined : 'outside the schedule';
  } catch (error) {
    return `schedule is invalid: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function checkArmedZone(rule: AlertRule, facts: EventFacts): string | undefined {
  if (!rule.requireArmedZone) return undefined;
  const armed =
    facts.zones.some(
      (z) => isZoneArmed(facts.houseMode, z.armed) && (!constrains(rule.zoneIds) || rule.zoneIds.includes(z.id)),
    ) ||
    (facts.cameraArmed === true && !constrains(rule.zoneIds));
  return armed ? undefined : `no armed zone was touched (house mode ${facts.houseMode})`;
}

/**
 * One alert per event: of the rules an event matched, the most severe raises it (ties: the earlier rule in
 * `matched`), and the others are listed in it. Undefined when none matched.
 */
export function chooseAlertRule(matched: readonly AlertRule[]): { rule: AlertRule; others: AlertRule[] } | undefined {
  let best: AlertRule | undefined;
  for (const rule of matched) {
    if (best === undefined || riskLevelRank(rule.severity) > riskLevelRank(best.severity)) best = rule;
  }
  if (best === undefined) return undefined;
  return { rule: best, others: matched.filter((r) => r !== best) };
}

/** Evaluates every condition (no short-cut), so `failedConditions` lists all that failed. */
export function matchRule(rule: AlertRule, facts: EventFacts, now: Date | number): RuleMatch {
  const failedConditions: FailedCondition[] = [];
  for (const [condition, check] of CHECKS) {
    const reason = check(rule, facts, now);
    if (reason !== undefined) failedConditions.push({ condition, reason });
  }
  return { matched: failedConditions.length === 0, failedConditions };
}

/** Every problem with a rule's values (not its types), each naming its field; empty when valid. */
export function validateAlertRule(rule: AlertRule): string[] {
  const errors: string[] = [];
  if (rule.name.trim() === '') errors.push('name must not be empty');
  const threshold = rule.riskThreshold;
  if (threshold !== null && !(Number.isInteger(threshold) && threshold >= 0 && threshold <= 100)) {
    errors.push(`risk_threshold must be an integer 0-100, got ${threshold}`);
  }
  if (rule.minConfidence !== null && !(rule.minConfidence >= 0 && rule.minConfidence <= 1)) {
    errors.push(`min_confidence must be between 0 and 1, got ${rule.minConfidence}`);
  }
  if (!(Number.isInteger(rule.cooldownSeconds) && rule.cooldownSeconds >= 0)) {
    errors.push(`cooldown_seconds must be a whole number of seconds >= 0, got ${rule.cooldownSeconds}`);
  }
  if (rule.schedule !== null) errors.push(...validateSchedule(rule.schedule, 'schedule'));
  for (const id of rule.personIds ?? []) {
    if (!(Number.isInteger(id) && id > 0)) errors.push(`person_ids must list household member ids, got ${id}`);
  }
  if (rule.dedupKeyTemplate !== null) errors.push(...validateDedupTemplate(rule.dedupKeyTemplate));
  return errors;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

export function validateDedupTemplate(template: string, field = 'dedup_key_template'): string[] {
  if (template.trim() === '') return [`${field} must not be empty`];
  const errors: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(DEDUP_PLACEHOLDERS as readonly string[]).includes(name)) {
      errors.push(
        `${field} has unknown placeholder {${name}}; use ${DEDUP_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
      );
    }
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) errors.push(`${field} has an unbalanced brace`);
  return errors;
}

/** Fills `{name}` placeholders; an unknown or missing one throws INVALID_INPUT naming it. */
export function renderDedupKey(template: string, facts: Readonly<Partial<Record<string, string | number>>>): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = facts[name];
    if (value === undefined) {
      throw new AppError('INVALID_INPUT', `dedup key template "${template}" uses {${name}}, which has no value`, {
        permanent: true,
      });
    }
    return String(value);
  });
}

/** The placeholder values of one rule and event; object_type is the most confident type, zone_id the first zone. */
export function dedupFactsFor(rule: AlertRule, facts: EventFacts): Record<DedupPlaceholder, string> {
  const types = Object.entries(facts.confidenceByType).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    camera_id: facts.cameraId,
    rule_id: rule.id,
    event_id: String(facts.eventId),
    risk_level: facts.riskLevel,
    severity: rule.severity,
    object_type: types[0]?.[0] ?? 'none',
    zone_id: facts.zones[0]?.id ?? 'none',
  };
}

export function dedupKeyFor(rule: AlertRule, facts: EventFacts): string {
  return renderDedupKey(rule.dedupKeyTemplate ?? DEFAULT_DEDUP_TEMPLATE, dedupFactsFor(rule, facts));
}

/** True while `now` is less than `cooldownSeconds` after the last alert (a last alert in the future counts too). */
export function cooldownActive(
  lastAlertAt: Date | number | null | undefined,
  cooldownSeconds: number,
  now: Date | number,
): boolean {
  if (lastAlertAt === null || lastAlertAt === undefined) return false;
  return Number(now) - Number(lastAlertAt) < cooldownSeconds * 1000;
}

const NO_CONDITIONS = {
  enabled: true,
  riskThreshold: null,
  cameraIds: null,
  zoneIds: null,
  objectTypes: null,
  minConfidence: null,
  schedule: null,
  houseModes: null,
  requireArmedZone: false,
  unknownPerson: false,
  personIds: null,
  ignoreTrusted: false,
  dedupKeyTemplate: null,
  cooldownSeconds: DEFAULT_COOLDOWN_SECONDS,
} as const;

/**
 * Rules created on first run (fixed ids, so seeding twice changes nothing). Night schedules use the site timezone.
 */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  {
    ...NO_CONDITIONS,
    id: '00000000-0000-4000-8000-000000000001',
    name: 'Person in an armed zone at night',
    severity: 'high',
    objectTypes: ['person'],
    minConfidence: 0.6,
    schedule: { start: '22:00', end: '06:00' },
    requireArmedZone: true,
  },
  {
    ...NO_CONDITIONS,
    id: '00000000-0000-4000-8000-000000000002',
    name: 'Critical event',
    severity: 'critical',
    riskThreshold: 85,
  },
  {
    ...NO_CONDITIONS,
    id: '00000000-0000-4000-8000-000000000003',
    name: 'High risk while away',
    severity: 'high',
    riskThreshold: 60,
    houseModes: ['armed_away'],
  },
];
