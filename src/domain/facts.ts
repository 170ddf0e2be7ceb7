import type { PeopleSeen } from './alert-rules.js';
import { clampScore, type RiskLevel, riskLevelFor } from './risk.js';

/**
 * A fact a feature knows about a visit (the owner's feedback on the camera, later who was recognised, how unusual
 * the hour is): what the LLM reads, what the rules scorer applies, what the event's audit row keeps.
 */
export interface Fact {
  /** The fact source's name ('owner-feedback'). */
  source: string;
  /** Lines for the LLM's user message, in order; none: the fact only scores or is only kept. */
  promptLines?: readonly string[];
  /** What the rules scorer does with it; none: the fact does not move the score. */
  score?: ScoreHint;
  /** Kept in the event's audit row (plain JSON), for calibration and review. */
  data: Record<string, unknown>;
  /** Who the visit's people were, for the alert rules' identity conditions (the identity feature says). */
  people?: PeopleSeen;
}

/**
 * A move of the rules score. Hints are judged against the score the rules reached before any hint (`atLevels`), then
 * applied in fact order: `delta` adds points, `floor` raises to at least, `cap` lowers to at most. A critical score
 * is never lowered by a hint: an intrusion must not be talked down.
 */
export interface ScoreHint {
  /** How the reasoning names the move: "owner feedback: 3 of 4 high events here were false alarms". */
  label: string;
  delta?: number;
  floor?: number;
  cap?: number;
  /** Applies only when the rules score is at one of these levels; absent: at any level. */
  atLevels?: readonly RiskLevel[];
}

/** One applied hint: the points it moved the score by (negative: down). */
export interface AppliedHint {
  label: string;
  points: number;
}

/** The score after every fact's hint, and the hints that moved it (in order). Pure. */
export function applyScoreHints(score: number, facts: readonly Fact[]): { score: number; applied: AppliedHint[] } {
  const level = riskLevelFor(score);
  const critical = level === 'critical';
  let current = clampScore(score);
  const applied: AppliedHint[] = [];
  for (const fact of facts) {
    const hint = fact.score;
    if (hint === undefined || (hint.atLevels !== undefined && !hint.atLevels.includes(level))) continue;
    let next = current + (hint.delta ?? 0);
    if (hint.floor !== undefined) next = Math.max(next, hint.floor);
    if (hint.cap !== undefined) next = Math.min(next, hint.cap);
    next = clampScore(next);
    if (critical && next < current) next = current;
    if (next === current) continue;
    applied.push({ label: hint.label, points: next - current });
    current = next;
  }
  return { score: current, applied };
}

/** The lines every fact gives the prompt, in fact order. */
export function factPromptLines(facts: readonly Fact[]): string[] {
  return facts.flatMap((f) => f.promptLines ?? []);
}

/** The audit key under which the people seen are kept (beside the sources' data), for judging rules later. */
export const PEOPLE_SEEN_KEY = 'people_seen';

/** What the audit row keeps of the facts: each source's data, by source name, and the people seen when known. */
export function factAuditData(facts: readonly Fact[]): Record<string, unknown> {
  const out: Record<string, unknown[]> = {};
  for (const f of facts) {
    const list = out[f.source] ?? [];
    list.push(f.data);
    out[f.source] = list;
  }
  const people = peopleSeen(facts);
  return people === undefined ? out : { ...out, [PEOPLE_SEEN_KEY]: people };
}

/** Who the facts say the visit's people were: the first fact that knows; undefined when none does. */
export function peopleSeen(facts: readonly Fact[]): PeopleSeen | undefined {
  return facts.find((f) => f.people !== undefined)?.people;
}

/** The people seen as an audit row kept them, or undefined when it holds none (or something else). */
export function auditedPeopleSeen(facts: unknown): PeopleSeen | undefined {
  if (typeof facts !== 'object' || facts === null) return undefined;
  const value = (facts as Record<string, unknown>)[PEOPLE_SEEN_KEY];
  if (typeof value !== 'object' || value === null) return undefined;
  const { unknown, members } = value as { unknown?: unknown; members?: unknown };
  if (typeof unknown !== 'number' || !Array.isArray(members)) return undefined;
  const valid = members.every(
    (m) => typeof m === 'object' && m !== null && typeof m.id === 'number' && typeof m.trusted === 'boolean',
  );
  return valid ? { unknown, members: members as PeopleSeen['members'] } : undefined;
}
