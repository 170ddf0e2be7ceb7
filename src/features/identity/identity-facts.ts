import type { Fact } from '../../domain/facts.js';
import { RISK_BANDS } from '../../domain/risk.js';
import { localTime, type Schedule, scheduleActive, validateSchedule } from '../../domain/schedule.js';
import type { RecognisedMember, VisitPeople } from './visit-people.js';

export const SOURCE = 'identity';
/** How far back a returning visitor's earlier visits count. */
export const RETURNING_WINDOW_DAYS = 7;
/** Earlier visits within the window that make an unknown person a returning visitor. */
export const RETURNING_MIN_VISITS = 2;
/** Points an unknown person adds at night or in an armed zone, and a returning one adds on top. */
export const UNKNOWN_AT_NIGHT_POINTS = 15;
export const RETURNING_UNKNOWN_POINTS = 10;
/** Points a partially trusted member (recognised, within schedule and zones) takes off. */
export const PARTIAL_TRUST_POINTS = -15;

/** An unknown person's earlier visits (distinct events) within the returning window. */
export interface VisitorHistory {
  entityId: string;
  visits: number;
  lastAt: Date | null;
  cameras: string[];
}

export interface IdentityFactInput {
  people: VisitPeople;
  /** When the visit's first picture was taken, and the site's timezone: schedules are judged then. */
  at: Date;
  timeZone: string;
  night: boolean;
  armed: boolean;
  /** Per zone the members touched: whom it admits and when; a zone without an entry admits every member. */
  zonePermissions: ReadonlyMap<string, readonly { memberId: number; schedule: unknown }[]>;
  /** The earlier visits of the visit's unknown people. */
  history: readonly VisitorHistory[];
  /** Zone names, for the prompt. */
  zoneNames?: ReadonlyMap<string, string>;
}

/** A recognised member judged against their schedule and the zones they were in. */
export interface JudgedMember extends RecognisedMember {
  withinSchedule: boolean;
  /** Zones they were in where they are not admitted now. */
  forbiddenZones: string[];
  /** Full trust, within schedule, every zone allowed. */
  trusted: boolean;
}

const schedulesOf = (value: unknown): Schedule[] | undefined => {
  if (value === null || value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.every((s) => validateSchedule(s).length === 0) ? (list as Schedule[]) : undefined;
};

/** Whether `at` is inside any of the stored schedules; no (or an unreadable) schedule: any time. */
export function withinSchedules(value: unknown, at: Date, timeZone: string): boolean {
  const schedules = schedulesOf(value);
  if (schedules === undefined || schedules.length === 0) return true;
  return schedules.some((s) => scheduleActive(s, at, timeZone));
}

/** Each recognised member judged at the visit's time. Pure. */
export function judgeMembers(input: IdentityFactInput): JudgedMember[] {
  return input.people.members.map((m) => {
    const withinSchedule = withinSchedules(m.schedule, input.at, input.timeZone);
    const forbiddenZones = m.zoneIds.filter((zone) => {
      const admitted = input.zonePermissions.get(zone);
      if (admitted === undefined || admitted.length === 0) return false;
      const own = admitted.find((a) => a.memberId === m.id);
      return own === undefined || !withinSchedules(own.schedule, input.at, input.timeZone);
    });
    const trusted = m.trust === 'full' && withinSchedule && forbiddenZones.length === 0;
    return { ...m, withinSchedule, forbiddenZones, trusted };
  });
}

/**
 * What identity says about a visit, as facts: who was recognised and how sure, who was not, returning visitors
 * and the journey across cameras (prompt lines and audit data), the people seen for the alert rules, and the score
 * hints:
 * - only household members, every one trusted (full trust, within schedule and allowed zones): the score is capped
 *   at the top of low. Never with an unknown person beside them: the hint is not given then.
 * - only members, within schedule and zones, some with partial trust: 15 points off.
 * - an unknown person at night or in an armed zone: +15; a returning unknown visitor (seen in 2 or more other
 *   visits in the last 7 days) there: +10 more. By day a returning visitor is only named (the postman returns too).
 * Members outside their schedule or allowed zones are named in the prompt and move nothing. Pure.
 */
export function identityFacts(input: IdentityFactInput): Fact[] {
  const { people } = input;
  if (people.persons === 0) return [];
  const members = judgeMembers(input);
  const returning = input.history.filter((h) => h.visits >= RETURNING_MIN_VISITS);
  const facts: Fact[] = [
    {
      source: SOURCE,
      promptLines: promptLines(input, members, returning),
      data: {
        persons: people.persons,
        unknown: people.unknown,
        members: members.map((m) => ({
          id: m.id,
          name: m.name,
          trust: m.trust,
          via: m.via,
          similarity: round(m.similarity),
          within_schedule: m.withinSchedule,
          forbidden_zones: m.forbiddenZones,
          trusted: m.trusted,
        })),
        returning: returning.map((h) => ({
          entity_id: h.entityId,
          visits: h.visits,
          last_at: h.lastAt?.toISOString() ?? null,
        })),
        journey: people.journey === null ? null : { id: people.journey.id, cameras: people.journey.cameras },
      },
      people: { unknown: people.unknown, members: members.map((m) => ({ id: m.id, trusted: m.trusted })) },
    },
  ];
  const names = (list: readonly JudgedMember[]) => list.map((m) => m.name).join(', ');
  const onlyMembers = people.unknown === 0 && members.length > 0;
  if (onlyMembers && members.every((m) => m.trusted)) {
    const label = `household: ${names(members)} recognised, within schedule`;
    facts.push({ source: SOURCE, score: { label, cap: RISK_BANDS.low.max }, data: { hint: 'trusted' } });
  } else if (
    onlyMembers &&
    members.every((m) => m.trust !== 'monitor' && m.withinSchedule && m.forbiddenZones.length === 0)
  ) {
    const label = `household: ${names(members)} recognised (partial trust)`;
    facts.push({ source: SOURCE, score: { label, delta: PARTIAL_TRUST_POINTS }, data: { hint: 'partial' } });
  }
  if (people.unknown > 0 && (input.night || input.armed)) {
    const where = input.night ? 'at night' : 'in an armed zone';
    const label = `${people.unknown === 1 ? 'an unknown person' : `${people.unknown} unknown people`} ${where}`;
    facts.push({ source: SOURCE, score: { label, delta: UNKNOWN_AT_NIGHT_POINTS }, data: { hint: 'unknown' } });
    const best = returning.reduce<VisitorHistory | undefined>(
      (a, b) => (a === undefined || b.visits > a.visits ? b : a),
      undefined,
    );
    if (best !== undefined) {
      const label = `returning unknown visitor: ${best.visits} other visits in ${RETURNING_WINDOW_DAYS} days`;
      facts.push({
        source: SOURCE,
        score: { label, delta: RETURNING_UNKNOWN_POINTS },
        data: { hint: 'returning', entity_id: best.entityId },
      });
    }
  }
  return facts;
}

const round = (n: number) => Math.round(n * 100) / 100;

function hhmm(at: Date, timeZone: string): string {
  const t = localTime(at, timeZone);
  const day = t.weekday.charAt(0).toUpperCase() + t.weekday.slice(1);
  return `${day} ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

function promptLines(input: IdentityFactInput, members: readonly JudgedMember[], returning: readonly VisitorHistory[]) {
  const { people, timeZone } = input;
  const zoneName = (id: string) => input.zoneNames?.get(id) ?? id;
  const lines: string[] = [];
  if (members.length > 0) {
    lines.push('Household members recognised:');
    for (const m of members) {
      const notes = [
        m.withinSchedule ? 'within their usual hours' : 'OUTSIDE their usual hours',
        ...(m.forbiddenZones.length > 0
          ? [`in ${m.forbiddenZones.map(zoneName).join(', ')}, where not allowed now`]
          : []),
      ];
      lines.push(
        `- ${JSON.stringify(m.name)} (${m.trust} trust, ${m.via === 'face' ? 'by face' : 'by appearance'}, ` +
          `similarity ${round(m.similarity)}): ${notes.join('; ')}`,
      );
    }
  }
  lines.push(
    people.unknown === 0
      ? 'Unknown people: none (everyone seen was recognised)'
      : `Unknown people: ${people.unknown} (not recognised as a household member)`,
  );
  for (const h of returning) {
    const last = h.lastAt === null ? '' : `, last ${hhmm(h.lastAt, timeZone)}`;
    lines.push(
      `- returning visitor: seen in ${h.visits} other visits in the last ${RETURNING_WINDOW_DAYS} days${last}` +
        (h.cameras.length > 0 ? ` (cameras: ${h.cameras.join(', ')})` : ''),
    );
  }
  if (people.journey !== null) {
    const path = people.journey.steps.map((s) => `${s.camera_id} ${hhmm(new Date(s.at), timeZone)}`).join(' -> ');
    lines.push(`The same person crossed cameras: ${path}`);
  }
  return lines;
}
