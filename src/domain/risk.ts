import { AppError } from '../lib/errors.js';

/**
 * Risk bands of a security event. A score is an integer 0–100; its level follows from fixed bands:
 * 0–29 low, 30–59 medium, 60–84 high, 85–100 critical. Wherever a level and a score disagree (an LLM
 * answer, a hand-edited row), the score wins and the level is derived from it.
 */

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Inclusive score range of each level. */
export const RISK_BANDS: Readonly<Record<RiskLevel, { readonly min: number; readonly max: number }>> = {
  low: { min: 0, max: 29 },
  medium: { min: 30, max: 59 },
  high: { min: 60, max: 84 },
  critical: { min: 85, max: 100 },
};

export const MIN_RISK_SCORE = 0;
export const MAX_RISK_SCORE = 100;

export function isRiskLevel(value: unknown): value is RiskLevel {
  return typeof value === 'string' && (RISK_LEVELS as readonly string[]).includes(value);
}

/**
 * Rounds to the nearest integer and clamps into 0–100. A non-finite number (NaN, ±Infinity) is a programming
 * error upstream, not a score: it throws an INVALID_INPUT error naming the value.
 */
export function clampScore(score: number): number {
  if (!Number.isFinite(score)) {
    throw new AppError('INVALID_INPUT', `risk score must be a finite number, got ${String(score)}`, {
      permanent: true,
    });
  }
  return Math.min(MAX_RISK_SCORE, Math.max(MIN_RISK_SCORE, Math.round(score)));
}

/** The level of a score (clamped first, so 120 is critical and -3 is low). */
export function riskLevelFor(score: number): RiskLevel {
  const clamped = clampScore(score);
  if (clamped >= RISK_BANDS.critical.min) return 'critical';
  if (clamped >= RISK_BANDS.high.min) return 'high';
  if (clamped >= RISK_BANDS.medium.min) return 'medium';
  return 'low';
}

/** 0 for low … 3 for critical: compare levels without string tricks. */
export function riskLevelRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/** True when `level` is at least as severe as `floor`. */
export function riskLevelAtLeast(level: RiskLevel, floor: RiskLevel): boolean {
  return riskLevelRank(level) >= riskLevelRank(floor);
}
