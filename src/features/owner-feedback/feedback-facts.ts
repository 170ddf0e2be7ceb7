import type { Fact } from '../../domain/facts.js';
import { RISK_BANDS, RISK_LEVELS, type RiskLevel } from '../../domain/risk.js';

/**
 * The owner's feedback on one camera's past events that were given one risk level: how many were rated, and how
 * many of those were accurate, false alarms, rated too high or too low (`severity_wrong` with the level expected),
 * or a threat the event under-scored (`missed_threat`).
 */
export interface LevelFeedback {
  level: RiskLevel;
  rated: number;
  accurate: number;
  falseAlarms: number;
  tooHigh: number;
  tooLow: number;
  missedThreats: number;
}

/** A level's feedback with nothing counted, or with the given counts. */
export function levelFeedback(level: RiskLevel, counts: Partial<Omit<LevelFeedback, 'level'>> = {}): LevelFeedback {
  return { level, rated: 0, accurate: 0, falseAlarms: 0, tooHigh: 0, tooLow: 0, missedThreats: 0, ...counts };
}

export const SOURCE = 'owner-feedback';
/** Fewer rated events of a level than this say nothing about it. */
const MIN_RATED = 3;

/**
 * The facts the owner's feedback gives a visit: the prompt's lines (every rated level), and per level with at
 * least 3 rated events one score hint for visits the rules put at that level. When a third or more were missed
 * threats or rated too low, the score rises to the next level's floor; otherwise, when two thirds or more were
 * false alarms or rated too high, it drops to the top of the level below. Critical is never lowered (an intrusion
 * must not be talked down by past false alarms) and low cannot drop further. Pure.
 */
export function feedbackFacts(feedback: readonly LevelFeedback[], windowDays: number): Fact[] {
  const rated = feedback.filter((f) => f.rated > 0);
  const lines: Fact = {
    source: SOURCE,
    promptLines: promptLines(rated, windowDays),
    data: { window_days: windowDays, levels: rated.map((f) => ({ ...f })) },
  };
  return [lines, ...rated.flatMap((f) => calibration(f))];
}

function calibration(f: LevelFeedback): Fact[] {
  if (f.rated < MIN_RATED) return [];
  const index = RISK_LEVELS.indexOf(f.level);
  const up = f.tooLow + f.missedThreats;
  const down = f.falseAlarms + f.tooHigh;
  const next = RISK_LEVELS[index + 1];
  const data = { level: f.level, rated: f.rated };
  if (next !== undefined && up * 3 >= f.rated) {
    const label = `owner feedback: ${up} of ${f.rated} ${f.level} events here were missed threats or rated too low`;
    return [{ source: SOURCE, score: { label, floor: RISK_BANDS[next].min, atLevels: [f.level] }, data }];
  }
  const below = RISK_LEVELS[index - 1];
  if (below !== undefined && f.level !== 'critical' && down * 3 >= f.rated * 2) {
    const label = `owner feedback: ${down} of ${f.rated} ${f.level} events here were false alarms or rated too high`;
    return [{ source: SOURCE, score: { label, cap: RISK_BANDS[below].max, atLevels: [f.level] }, data }];
  }
  return [];
}

function promptLines(rated: readonly LevelFeedback[], windowDays: number): string[] {
  const header = `Owner feedback on this camera's events (last ${windowDays} days)`;
  if (rated.length === 0) return [`${header}: none`];
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const lines = rated.map((f) => {
    const parts = [
      f.accurate > 0 ? `${f.accurate} accurate` : '',
      f.falseAlarms > 0 ? plural(f.falseAlarms, 'false alarm', 'false alarms') : '',
      f.tooHigh > 0 ? `${f.tooHigh} rated too high` : '',
      f.tooLow > 0 ? `${f.tooLow} rated too low` : '',
      f.missedThreats > 0 ? plural(f.missedThreats, 'missed threat', 'missed threats') : '',
    ].filter((p) => p !== '');
    return `- ${f.level} events: ${f.rated} rated: ${parts.join(', ')}`;
  });
  return [`${header}, by the level they were given:`, ...lines];
}
