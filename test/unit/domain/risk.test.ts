import { describe, expect, it } from 'vitest';
import { describeHouseMode, isHouseMode, isZoneArmed } from '../../../src/domain/arming.js';
import {
  clampScore,
  isRiskLevel,
  RISK_BANDS,
  riskLevelAtLeast,
  riskLevelFor,
  riskLevelRank,
} from '../../../src/domain/risk.js';
import { AppError } from '../../../src/lib/errors.js';

describe('riskLevelFor', () => {
  it('maps every band edge to its level', () => {
    const edges = [0, 29, 30, 59, 60, 84, 85, 100].map((s) => [s, riskLevelFor(s)]);
    expect(edges).toStrictEqual([
      [0, 'low'],
      [29, 'low'],
      [30, 'medium'],
      [59, 'medium'],
      [60, 'high'],
      [84, 'high'],
      [85, 'critical'],
      [100, 'critical'],
    ]);
  });

  it('clamps out-of-range and fractional scores before banding', () => {
    expect([-5, 29.4, 29.5, 84.6, 250].map(riskLevelFor)).toStrictEqual([
      'low',
      'low',
      'medium',
      'critical',
      'critical',
    ]);
  });

  it('agrees with RISK_BANDS for every integer score', () => {
    for (let score = 0; score <= 100; score++) {
      const { min, max } = RISK_BANDS[riskLevelFor(score)];
      expect(score >= min && score <= max).toBe(true);
    }
  });
});

describe('clampScore', () => {
  it('rounds and clamps into 0..100', () => {
    expect([-1, 0, 42.4, 42.5, 100, 101, 1e9].map(clampScore)).toStrictEqual([0, 0, 42, 43, 100, 100, 100]);
  });

  it('rejects non-finite numbers with an INVALID_INPUT error', () => {
    expect(() => clampScore(Number.NaN)).toThrowError(AppError);
    expect(() => clampScore(Number.POSITIVE_INFINITY)).toThrowError(/finite number, got Infinity/);
  });
});

describe('risk level helpers', () => {
  it('recognises levels and orders them', () => {
    expect([isRiskLevel('high'), isRiskLevel('HIGH'), isRiskLevel(3)]).toStrictEqual([true, false, false]);
    expect(riskLevelRank('critical')).toBe(3);
    expect(riskLevelAtLeast('high', 'medium')).toBe(true);
    expect(riskLevelAtLeast('medium', 'high')).toBe(false);
  });
});

describe('arming', () => {
  it('arms a zone only when its switch is on and the house is armed', () => {
    expect(isZoneArmed('disarmed', true)).toBe(false);
    expect(isZoneArmed('armed_home', false)).toBe(false);
    expect(isZoneArmed('armed_home', true)).toBe(true);
    expect(isZoneArmed('armed_night', true)).toBe(true);
    expect(isZoneArmed('armed_away', true)).toBe(true);
  });

  it('recognises house modes and describes them', () => {
    expect([isHouseMode('armed_away'), isHouseMode('triggered'), isHouseMode(null)]).toStrictEqual([
      true,
      false,
      false,
    ]);
    expect(describeHouseMode('armed_away')).toBe('armed (away: nobody is home)');
  });
});
