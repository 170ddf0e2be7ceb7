import { describe, expect, it } from 'vitest';
import { isNightHour, objectStats, type ScorerInput, scoreEvent } from '../../../src/analysis/rules-scorer.js';
import { feedbackFacts, levelFeedback } from '../../../src/features/owner-feedback/feedback-facts.js';
import { scorerInput as input, zoneHit } from '../../support/builders.js';

const porch = zoneHit();
const driveway = zoneHit({ id: 'drive', name: 'Driveway', zoneType: 'driveway' });
const sidewalk = zoneHit({ id: 'walk', name: 'Sidewalk', zoneType: 'sidewalk', armed: false });

const car = { objectCounts: { car: 4 }, maxConfidence: { car: 0.91 }, detectionCount: 4 };
const dog = { objectCounts: { dog: 2 }, maxConfidence: { dog: 0.8 }, detectionCount: 2 };
const twoPeople = { maxInOneFrame: { person: 2 } };
const night = { localHour: 23, weekday: 'sat' as const };

describe('scoreEvent calibration', () => {
  const scenarios: [string, Partial<ScorerInput>, number, string][] = [
    ['car in daylight', car, 5, 'low'],
    ['dog in daylight', dog, 2, 'low'],
    ['car at night in a driveway, disarmed', { ...car, ...night, zonesHit: [driveway] }, 15, 'low'],
    [
      'cat at night in an armed zone',
      { objectCounts: { cat: 1 }, maxConfidence: { cat: 0.7 }, ...night, zonesHit: [porch], houseMode: 'armed_night' },
      8,
      'low',
    ],
    ['person by day, disarmed', {}, 12, 'low'],
    ['delivery: person by day at the entry point', { zonesHit: [porch] }, 17, 'low'],
    ['two people walking by on the sidewalk', { ...twoPeople, zonesHit: [sidewalk] }, 15, 'low'],
    ['person by day while away, outside armed zones', { houseMode: 'armed_away', zonesHit: [sidewalk] }, 27, 'low'],
    ['uncertain person by day', { maxConfidence: { person: 0.55 } }, 9, 'low'],
    ['person at night', night, 37, 'medium'],
    [
      'person at night at the entry point, disarmed',
      { ...night, zonesHit: [{ ...porch, armed: false }] },
      47,
      'medium',
    ],
    ['person by day in an armed zone, residents home', { zonesHit: [porch], houseMode: 'armed_home' }, 52, 'medium'],
    [
      'vehicle at night in an armed driveway while away',
      { ...car, ...night, zonesHit: [driveway], houseMode: 'armed_away' },
      40,
      'medium',
    ],
    ['person in an armed zone while away', { zonesHit: [driveway], houseMode: 'armed_away' }, 62, 'high'],
    ['person at night in an armed entry point', { ...night, zonesHit: [porch], houseMode: 'armed_night' }, 82, 'high'],
    [
      'person at night, armed entry, away: capped without corroboration',
      { ...night, zonesHit: [porch], houseMode: 'armed_away' },
      84,
      'high',
    ],
    [
      'two people at night in an armed entry point',
      { ...night, ...twoPeople, zonesHit: [porch], houseMode: 'armed_home' },
      90,
      'critical',
    ],
    [
      'three people at night, armed entry, away',
      { ...night, maxInOneFrame: { person: 3 }, zonesHit: [porch], houseMode: 'armed_away' },
      100,
      'critical',
    ],
    [
      'repeated visits at night in an armed entry point',
      { ...night, zonesHit: [porch], houseMode: 'armed_night', recentEventsOnCamera: 3 },
      100,
      'critical',
    ],
    // Issue 10: a prowler back for the third time within the hour at 01:00, no armed zone (was 52, medium).
    [
      'person back a third time at night at the door, disarmed',
      { ...night, localHour: 1, zonesHit: [{ ...porch, armed: false }], recentEventsOnCamera: 2 },
      72,
      'high',
    ],
    // Issue 10: 11 snapshots of one person at the door at 04:00 over 50 s (was 52, medium).
    [
      'one person lingering at the door at night, disarmed',
      { ...night, localHour: 4, objectCounts: { person: 11 }, detectionCount: 11, durationSeconds: 50 },
      62,
      'high',
    ],
    // Issue 10: armed away, a camera without zones: its whole view is armed (was 52 and no alert).
    [
      'person at night while away on a camera without zones',
      { ...night, houseMode: 'armed_away', cameraArmed: true },
      84,
      'high',
    ],
    ['a busy day: a person with 3 earlier events by day', { recentEventsOnCamera: 3 }, 17, 'low'],
  ];

  it.each(scenarios)('%s -> %i (%s)', (_name, overrides, score, level) => {
    const result = scoreEvent(input(overrides));
    expect([result.riskScore, result.riskLevel]).toStrictEqual([score, level]);
  });

  it('keeps everyday scenarios mostly low', () => {
    const levels = scenarios.map(([, overrides]) => scoreEvent(input(overrides)).riskLevel);
    const lows = levels.filter((l) => l === 'low').length;
    expect(lows).toBe(10);
  });
});

describe('scoreEvent output', () => {
  it('explains the score factor by factor', () => {
    const result = scoreEvent(input({ ...night, ...twoPeople, zonesHit: [porch], houseMode: 'armed_home' }));
    expect(result).toStrictEqual({
      riskScore: 90,
      riskLevel: 'critical',
      summary: '2 people at Front Door in Porch (entry point, armed) at night (Saturday 23:00).',
      reasoning:
        'Rules scorer: person present +12; night (23:00) +25; at an entry point +10; in an armed zone +35; ' +
        '2 people at once +8 = 90 (critical).',
      recommendedAction: 'Check the camera feed immediately; contact the authorities if the intrusion is confirmed.',
      factors: [
        { label: 'person present', points: 12 },
        { label: 'night (23:00)', points: 25 },
        { label: 'at an entry point', points: 10 },
        { label: 'in an armed zone', points: 35 },
        { label: '2 people at once', points: 8 },
      ],
    });
  });

  it('says when it capped a single sighting', () => {
    const result = scoreEvent(input({ ...night, zonesHit: [porch], houseMode: 'armed_away' }));
    expect(result.reasoning).toBe(
      'Rules scorer: person present +12; night (23:00) +25; at an entry point +10; in an armed zone +35; ' +
        'house armed away +15; capped at 84 (one person, seen once) = 84 (high).',
    );
  });

  it('summarises mixed objects, person first, and the most relevant group scores', () => {
    const result = scoreEvent(
      input({
        objectCounts: { dog: 1, truck: 2, person: 1, bus: 1 },
        maxConfidence: { dog: 0.6, truck: 0.8, person: 0.75, bus: 0.9 },
        maxInOneFrame: { truck: 2 },
        detectionCount: 5,
        localHour: 7,
      }),
    );
    expect(result.summary).toBe('A person, a bus, 2 trucks and a dog at Front Door during the day (Tuesday 07:00).');
    expect([result.riskScore, result.riskLevel, result.recommendedAction]).toStrictEqual([
      12,
      'low',
      'No action needed.',
    ]);
  });

  it('adds lingering only at night or in an armed zone, by time seen or number of sightings', () => {
    const lingering = { objectCounts: { person: 12 }, detectionCount: 12 };
    expect(scoreEvent(input(lingering)).riskScore).toBe(12);
    expect(scoreEvent(input({ ...lingering, ...night })).riskScore).toBe(62);
    const stood = scoreEvent(input({ ...night, durationSeconds: 380 }));
    expect(stood.riskScore).toBe(62);
    expect(stood.reasoning).toContain('lingering: seen for 6 min 20 s (3 person detections) +25');
    expect(scoreEvent(input({ ...night, durationSeconds: 59 })).riskScore).toBe(37);
  });

  it('counts a return at night only from the second earlier event within the hour, and says so', () => {
    expect(scoreEvent(input({ ...night, recentEventsOnCamera: 1 })).riskScore).toBe(37);
    const back = scoreEvent(input({ ...night, recentEventsOnCamera: 2 }));
    expect(back.riskScore).toBe(62);
    expect(back.reasoning).toContain('back again: 2 earlier events on this camera within the hour +25');
  });

  it('says the exact local time, and takes night from the site when given (the sun)', () => {
    const late = scoreEvent(input({ localHour: 0, localMinute: 40, weekday: 'sun' }));
    expect(late.summary).toBe('A person at Front Door at night (Sunday 00:40).');
    // A December evening at 17:10 is night by the sun, though the fixed window says day; a June 22:30 is not.
    expect(scoreEvent(input({ localHour: 17, localMinute: 10, night: true })).riskScore).toBe(37);
    expect(scoreEvent(input({ localHour: 22, localMinute: 30, night: false })).riskScore).toBe(12);
  });

  it('names the armed camera view in the summary and the reasoning', () => {
    const result = scoreEvent(input({ houseMode: 'armed_away', cameraArmed: true }));
    expect(result.summary).toBe(
      'A person at Front Door in the whole view (armed away) during the day (Tuesday 14:00).',
    );
    expect(result.reasoning).toContain('camera armed (away, no zones) +35');
  });

  it('scores an event with no objects as 0', () => {
    expect(scoreEvent(input({ objectCounts: {}, maxConfidence: {}, detectionCount: 0 }))).toStrictEqual({
      riskScore: 0,
      riskLevel: 'low',
      summary: 'No objects at Front Door during the day (Tuesday 14:00).',
      reasoning: 'Rules scorer: no objects detected = 0 (low).',
      recommendedAction: 'No action needed.',
      factors: [],
    });
  });
});

describe("scoreEvent and the owner's feedback", () => {
  const rated = levelFeedback;
  /** The owner-feedback feature's facts for these levels (its 30-day window). */
  const owner = (levels: Parameters<typeof feedbackFacts>[0]) => feedbackFacts(levels, 30);
  // A person at night, disarmed, no zone: 37 (medium).
  const medium = input(night);

  it('drops a level the owner mostly called false alarms or too high to the top of the level below', () => {
    expect(scoreEvent(medium)).toMatchObject({ riskScore: 37, riskLevel: 'medium' });
    const result = scoreEvent({ ...medium, facts: owner([rated('medium', { rated: 3, falseAlarms: 1, tooHigh: 1 })]) });
    expect(result).toMatchObject({ riskScore: 29, riskLevel: 'low', recommendedAction: 'No action needed.' });
    expect(result.reasoning).toBe(
      'Rules scorer: person present +12; night (23:00) +25; ' +
        'owner feedback: 2 of 3 medium events here were false alarms or rated too high -8 = 29 (low).',
    );
  });

  it('raises a level where a third or more were missed threats or rated too low, before any lowering', () => {
    const feedback = [rated('medium', { rated: 6, missedThreats: 1, tooLow: 1, falseAlarms: 4 })];
    expect(scoreEvent({ ...medium, facts: owner(feedback) })).toMatchObject({ riskScore: 60, riskLevel: 'high' });
    expect(scoreEvent({ ...input(), facts: owner([rated('low', { rated: 3, missedThreats: 1 })]) })).toMatchObject({
      riskScore: 30,
      riskLevel: 'medium',
    });
  });

  it('needs three rated events of the level reached, and ignores other levels', () => {
    expect(scoreEvent({ ...medium, facts: owner([rated('medium', { rated: 2, falseAlarms: 2 })]) }).riskScore).toBe(37);
    expect(scoreEvent({ ...medium, facts: owner([rated('high', { rated: 9, falseAlarms: 9 })]) }).riskScore).toBe(37);
    expect(scoreEvent({ ...medium, facts: owner([rated('medium', { rated: 3, falseAlarms: 1 })]) }).riskScore).toBe(37);
  });

  it('never lowers a critical event, and cannot lower a low one', () => {
    const critical = input({ ...night, ...twoPeople, zonesHit: [porch], houseMode: 'armed_night' });
    const before = scoreEvent(critical);
    expect(before.riskLevel).toBe('critical');
    const feedback = [rated('critical', { rated: 5, falseAlarms: 5 }), rated('low', { rated: 5, falseAlarms: 5 })];
    expect(scoreEvent({ ...critical, facts: owner(feedback) }).riskScore).toBe(before.riskScore);
    expect(scoreEvent({ ...input(), facts: owner(feedback) }).riskScore).toBe(12);
  });
});

describe('helpers', () => {
  it('defines night as 22:00-05:59', () => {
    expect([21, 22, 0, 5, 6].map(isNightHour)).toStrictEqual([false, true, true, true, false]);
  });

  it('objectStats counts per type, best confidence and most in one frame', () => {
    expect(
      objectStats([
        { objectType: 'person', confidence: 0.6, frame: 1 },
        { objectType: 'person', confidence: 0.9, frame: 1 },
        { objectType: 'person', confidence: 0.7, frame: 2 },
        { objectType: 'car', confidence: 0.8, frame: 2 },
      ]),
    ).toStrictEqual({
      objectCounts: { person: 3, car: 1 },
      maxConfidence: { person: 0.9, car: 0.8 },
      maxInOneFrame: { person: 2, car: 1 },
      detectionCount: 4,
    });
    expect(
      objectStats([
        { objectType: 'dog', confidence: 0.5 },
        { objectType: 'dog', confidence: 0.7 },
      ]),
    ).toStrictEqual({
      objectCounts: { dog: 2 },
      maxConfidence: { dog: 0.7 },
      maxInOneFrame: { dog: 1 },
      detectionCount: 2,
    });
  });
});
