import { describeHouseMode, type HouseMode, isZoneArmed } from '../domain/arming.js';
import { isNightHour } from '../domain/daylight.js';
import { type Fact, factPromptLines } from '../domain/facts.js';
import { RISK_LEVELS, type RiskLevel } from '../domain/risk.js';
import { localTime, type Weekday } from '../domain/schedule.js';
import type { ZoneHit } from '../domain/zones.js';

/**
 * Prompts for LLM risk analysis (pure). The system prompt is calibrated against the original system's failure,
 * over-scoring (67 % of its events were high or critical): it states the expected distribution and anchors
 * typical situations to score ranges. The user prompt carries only facts. Bump PROMPT_VERSION whenever the
 * wording changes, so stored events and feedback can be tied to the prompt that scored them.
 */

export const PROMPT_VERSION = 'hsi-risk-3';

/** JSON Schema of the answer; usable as an OpenAI-compatible `response_format` json_schema. */
export const RISK_ASSESSMENT_SCHEMA = {
  type: 'object',
  properties: {
    risk_score: { type: 'integer', minimum: 0, maximum: 100 },
    risk_level: { type: 'string', enum: [...RISK_LEVELS] },
    summary: { type: 'string', minLength: 1 },
    reasoning: { type: 'string' },
    recommended_action: { type: 'string' },
  },
  required: ['risk_score', 'risk_level', 'summary', 'reasoning'],
  additionalProperties: false,
} as const;

export const SYSTEM_PROMPT = `You are the risk analyst of a home security system. You receive what the object detector saw on one camera \
during one short security event at a private home, and you judge how much risk the event poses to the household.

Calibrate carefully. Almost everything home cameras see is harmless: expect about 80% of events to be low, 15% \
medium, 4% high and 1% critical. Over-scoring makes people ignore alerts, so pick the lowest score that honestly fits.

Score 0-100 and levels:
- low 0-29: routine activity. A resident coming or going 5-15; a delivery, postal worker or service visit 15-25; \
passing cars, people on the sidewalk, animals 0-15.
- medium 30-59: unusual but not clearly threatening. Someone at an odd hour with no sign of intent 30-45; a \
stranger lingering or looking around 45-60.
- high 60-84: suspicious behaviour that needs attention now. Someone trying door handles or windows, checking \
cars, entering an armed zone while nobody is home 70-85.
- critical 85-100: an active threat. A break-in or forced entry, a weapon, several intruders at an armed entry \
point at night 85-100.

Weigh the context: the local time, whether the house is armed (away: nobody is home; night: residents asleep), \
the zones touched (entry points matter most), how many people and how long they stayed, and recent activity on \
the same camera. Night alone is not a threat, but at night a person who stays a minute or more, or comes back \
for the second or third time within the hour, is high: that is how a prowler looks. You get detections, not images: never invent behaviour the data \
does not show. risk_level must be the level of risk_score.

The owner's feedback on this camera's past events is the best calibration you have: where events of a level were \
mostly false alarms or rated too high, score similar events lower; where the owner reports missed threats or \
ratings too low, do not under-score similar events.

Answer with ONLY this JSON object, no markdown and no text before or after it:
{"risk_score": <integer 0-100>, "risk_level": "low"|"medium"|"high"|"critical", \
"summary": "<one sentence, at most 200 characters>", "reasoning": "<two or three sentences on why this score>", \
"recommended_action": "<optional, one short sentence>"}`;

export interface RecentEvent {
  startedAt: Date;
  riskLevel: RiskLevel;
  summary: string;
}

export interface PromptInput {
  cameraName: string;
  /** When the event started. */
  at: Date;
  /** IANA timezone of the site. */
  timeZone: string;
  objectCounts: Readonly<Record<string, number>>;
  maxConfidence: Readonly<Record<string, number>>;
  maxInOneFrame?: Readonly<Record<string, number>>;
  detectionCount: number;
  /** Seconds from the first to the last detection. */
  durationSeconds: number;
  isFastPath: boolean;
  /** Night at the site (dusk to dawn by the sun); absent: 22:00-05:59 local time. */
  night?: boolean;
  zonesHit: readonly ZoneHit[];
  /** The camera's whole view is armed (armed away, a camera without zones). */
  cameraArmed?: boolean;
  houseMode: HouseMode;
  /** Earlier events on this camera, newest first; at most the first 5 are shown. */
  recentEvents: readonly RecentEvent[];
  /** What `recentEvents` covers, for the wording ("last 60 minutes"). */
  recentWindowMinutes: number;
  /** What the enabled features know (the owner's feedback on the camera, ...): their prompt lines, in order. */
  facts: readonly Fact[];
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export interface RiskPrompt {
  version: string;
  system: string;
  user: string;
  messages: ChatMessage[];
}

const DAY_NAMES: Readonly<Record<Weekday, string>> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};
const MAX_RECENT = 5;
const pad = (n: number) => String(n).padStart(2, '0');

/** Untrusted text (camera names, earlier LLM summaries) on one line, quotes neutralised, bounded. */
export function sanitise(text: string, maxLength = 200): string {
  const flat = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/"/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

function clockOf(at: Date, timeZone: string): string {
  const t = localTime(at, timeZone);
  return `${pad(t.hour)}:${pad(t.minute)}`;
}

function timeLine(at: Date, timeZone: string, isNight: boolean | undefined): string {
  const t = localTime(at, timeZone);
  const dark = isNight ?? isNightHour(t.hour);
  const night = dark ? ', night' : isNight === undefined && (t.hour < 8 || t.hour >= 20) ? ', dusk/dawn hours' : '';
  return `${DAY_NAMES[t.weekday]} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} (${timeZone}${night})`;
}

function objectLines(input: PromptInput): string[] {
  const types = Object.keys(input.objectCounts)
    .filter((t) => (input.objectCounts[t] ?? 0) > 0)
    .sort((a, b) => (input.objectCounts[b] ?? 0) - (input.objectCounts[a] ?? 0) || (a < b ? -1 : 1));
  return types.map((t) => {
    const count = input.objectCounts[t] ?? 0;
    const best = (input.maxConfidence[t] ?? 0).toFixed(2);
    const most = input.maxInOneFrame?.[t];
    const together = most !== undefined && most > 1 ? `, up to ${most} in one frame` : '';
    return `- ${sanitise(t, 40)}: ${count} detection${count === 1 ? '' : 's'}, best confidence ${best}${together}`;
  });
}

function zoneLine(input: PromptInput): string {
  if (input.zonesHit.length === 0 && input.cameraArmed === true) {
    return "Zones touched: the camera's whole view (no zones defined; armed while the house is armed away)";
  }
  if (input.zonesHit.length === 0) return 'Zones touched: none (outside every defined zone)';
  const zones = input.zonesHit.map((z) => {
    const armed = isZoneArmed(input.houseMode, z.armed) ? 'armed' : 'not armed';
    return `${sanitise(z.name, 60)} (${z.zoneType.replaceAll('_', ' ')}, ${armed})`;
  });
  return `Zones touched: ${zones.join('; ')}`;
}

function recentLines(input: PromptInput): string[] {
  const header = `Recent activity on this camera (last ${input.recentWindowMinutes} minutes)`;
  if (input.recentEvents.length === 0) return [`${header}: none`];
  const shown = input.recentEvents.slice(0, MAX_RECENT).map((e) => {
    return `- ${clockOf(e.startedAt, input.timeZone)} ${e.riskLevel}: "${sanitise(e.summary, 160)}"`;
  });
  const more = input.recentEvents.length - shown.length;
  return [`${header}: ${input.recentEvents.length} event(s)`, ...shown, ...(more > 0 ? [`- and ${more} more`] : [])];
}

/** The user message: the event's facts, one per line. */
export function buildUserPrompt(input: PromptInput): string {
  const kind = input.isFastPath
    ? ' (the first frame of a visit, analysed at once; the whole visit is analysed again when it ends)'
    : '';
  return [
    `Camera: ${sanitise(input.cameraName, 80)}`,
    `Local time: ${timeLine(input.at, input.timeZone, input.night)}`,
    `House alarm: ${describeHouseMode(input.houseMode)}`,
    `Detections: ${input.detectionCount} over ${Math.round(input.durationSeconds)} s${kind}`,
    ...objectLines(input),
    zoneLine(input),
    ...recentLines(input),
    ...factPromptLines(input.facts),
    '',
    'Assess the risk of this event. Answer with the JSON object only.',
  ].join('\n');
}

export function buildRiskPrompt(input: PromptInput): RiskPrompt {
  const user = buildUserPrompt(input);
  return {
    version: PROMPT_VERSION,
    system: SYSTEM_PROMPT,
    user,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: user },
    ],
  };
}
