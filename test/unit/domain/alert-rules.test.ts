import { describe, expect, it } from 'vitest';
import {
  type AlertRule,
  chooseAlertRule,
  cooldownActive,
  DEFAULT_ALERT_RULES,
  dedupKeyFor,
  type EventFacts,
  matchRule,
  renderDedupKey,
  transitionAlert,
  validateAlertRule,
  validateDedupTemplate,
} from '../../../src/domain/alert-rules.js';
import { AppError } from '../../../src/lib/errors.js';

const rule = (overrides: Partial<AlertRule> = {}): AlertRule => ({
  id: 'r1',
  name: 'Test rule',
  enabled: true,
  severity: 'high',
  riskThreshold: null,
  cameraIds: null,
  zoneIds: null,
  objectTypes: null,
  minConfidence: null,
  schedule: null,
  houseModes: null,
  requireArmedZone: false,
  dedupKeyTemplate: null,
  cooldownSeconds: 300,
  ...overrides,
});

const facts = (overrides: Partial<EventFacts> = {}): EventFacts => ({
  eventId: 42,
  cameraId: 'front_door',
  riskScore: 65,
  riskLevel: 'high',
  confidenceByType: { person: 0.82, car: 0.95 },
  zones: [{ id: 'porch', name: 'Porch', zoneType: 'entry_point', armed: true }],
  houseMode: 'armed_away',
  timezone: 'Europe/Berlin',
  ...overrides,
});

// Wednesday 2026-01-07 23:30 in Berlin (CET, UTC+1).
const NIGHT = new Date('2026-01-07T22:30:00Z');
// Wednesday 2026-01-07 12:00 in Berlin.
const NOON = new Date('2026-01-07T11:00:00Z');

const failed = (r: AlertRule, f: EventFacts = facts(), now: Date = NIGHT) =>
  matchRule(r, f, now).failedConditions.map((c) => c.condition);

describe('matchRule: identity conditions', () => {
  const jane = { id: 1, trusted: true };
  const gardener = { id: 2, trusted: false };
  it('unknown_person needs someone unrecognised; without identity every person is unknown', () => {
    const unknown = rule({ unknownPerson: true });
    expect(failed(unknown, facts({ people: { unknown: 1, members: [jane] } }))).toStrictEqual([]);
    expect(failed(unknown, facts({ people: { unknown: 0, members: [jane] } }))).toStrictEqual(['unknown_person']);
    expect(failed(unknown, facts())).toStrictEqual([]);
    expect(failed(unknown, facts({ confidenceByType: { car: 0.9 } }))).toStrictEqual(['unknown_person']);
  });

  it('person_ids needs one of the listed members recognised', () => {
    const forJane = rule({ personIds: [1] });
    expect(failed(forJane, facts({ people: { unknown: 0, members: [jane] } }))).toStrictEqual([]);
    expect(failed(forJane, facts({ people: { unknown: 1, members: [gardener] } }))).toStrictEqual(['person_ids']);
    expect(failed(rule({ personIds: [] }), facts())).toStrictEqual([]);
  });

  it('ignore_trusted stays quiet only when everyone seen was trusted', () => {
    const quiet = rule({ ignoreTrusted: true });
    expect(failed(quiet, facts({ people: { unknown: 0, members: [jane] } }))).toStrictEqual(['ignore_trusted']);
    // A stranger beside her, or a member outside their schedule, still alerts.
    expect(failed(quiet, facts({ people: { unknown: 1, members: [jane] } }))).toStrictEqual([]);
    expect(failed(quiet, facts({ people: { unknown: 0, members: [jane, gardener] } }))).toStrictEqual([]);
    expect(failed(quiet, facts())).toStrictEqual([]);
  });

  it('validates person_ids', () => {
    expect(validateAlertRule(rule({ personIds: [0, 1.5] }))).toStrictEqual([
      'person_ids must list household member ids, got 0',
      'person_ids must list household member ids, got 1.5',
    ]);
  });
});

describe('matchRule: each condition alone', () => {
  it('matches a rule without conditions', () => {
    expect(matchRule(rule(), facts(), NIGHT)).toStrictEqual({ matched: true, failedConditions: [] });
  });

  it('enabled', () => {
    expect(matchRule(rule({ enabled: false }), facts(), NIGHT)).toStrictEqual({
      matched: false,
      failedConditions: [{ condition: 'enabled', reason: 'rule is disabled' }],
    });
  });

  it('risk_threshold is inclusive', () => {
    expect(failed(rule({ riskThreshold: 65 }))).toStrictEqual([]);
    expect(matchRule(rule({ riskThreshold: 66 }), facts(), NIGHT).failedConditions).toStrictEqual([
      { condition: 'risk_threshold', reason: 'risk score 65 is below 66' },
    ]);
  });

  it('camera_ids (empty list does not constrain)', () => {
    expect(failed(rule({ cameraIds: ['front_door', 'garage'] }))).toStrictEqual([]);
    expect(failed(rule({ cameraIds: [] }))).toStrictEqual([]);
    expect(failed(rule({ cameraIds: ['garage'] }))).toStrictEqual(['camera_ids']);
  });

  it('zone_ids', () => {
    expect(failed(rule({ zoneIds: ['porch'] }))).toStrictEqual([]);
    expect(failed(rule({ zoneIds: ['garden'] }))).toStrictEqual(['zone_ids']);
    expect(failed(rule({ zoneIds: ['porch'] }), facts({ zones: [] }))).toStrictEqual(['zone_ids']);
  });

  it('object_types', () => {
    expect(failed(rule({ objectTypes: ['person', 'dog'] }))).toStrictEqual([]);
    expect(failed(rule({ objectTypes: ['dog'] }))).toStrictEqual(['object_types']);
  });

  it('min_confidence uses the best confidence, of the listed types when set', () => {
    expect(failed(rule({ minConfidence: 0.9 }))).toStrictEqual([]);
    expect(
      matchRule(rule({ minConfidence: 0.9, objectTypes: ['person'] }), facts(), NIGHT).failedConditions,
    ).toStrictEqual([{ condition: 'min_confidence', reason: 'best confidence 0.82 is below 0.9' }]);
    expect(failed(rule({ minConfidence: 0.5 }), facts({ confidenceByType: {} }))).toStrictEqual(['min_confidence']);
  });

  it('schedule uses the site timezone unless the rule has its own', () => {
    const night = rule({ schedule: { start: '22:00', end: '06:00' } });
    expect(failed(night, facts(), NIGHT)).toStrictEqual([]);
    expect(failed(night, facts(), NOON)).toStrictEqual(['schedule']);
    // 22:30 UTC is 17:30 in New York: outside the night.
    expect(failed(night, facts({ timezone: 'America/New_York' }), NIGHT)).toStrictEqual(['schedule']);
    const ownZone = rule({ schedule: { start: '22:00', end: '06:00', timezone: 'Europe/Berlin' } });
    expect(failed(ownZone, facts({ timezone: 'America/New_York' }), NIGHT)).toStrictEqual([]);
  });

  it('reports an invalid schedule as a failed condition instead of throwing', () => {
    const broken = rule({ schedule: { start: '22:00', end: '06:00', timezone: 'Nowhere/City' } });
    expect(matchRule(broken, facts(), NIGHT)).toStrictEqual({
      matched: false,
      failedConditions: [
        {
          condition: 'schedule',
          reason: 'schedule is invalid: unknown timezone "Nowhere/City": use an IANA name such as Europe/Berlin',
        },
      ],
    });
  });

  it('house_modes', () => {
    expect(failed(rule({ houseModes: ['armed_away', 'armed_night'] }))).toStrictEqual([]);
    expect(failed(rule({ houseModes: ['armed_night'] }))).toStrictEqual(['house_modes']);
  });

  it('armed_zone needs the zone switch on and the house armed', () => {
    const armedZone = rule({ requireArmedZone: true });
    expect(failed(armedZone)).toStrictEqual([]);
    expect(failed(armedZone, facts({ houseMode: 'disarmed' }))).toStrictEqual(['armed_zone']);
    const switchedOff = facts({ zones: [{ id: 'porch', name: 'Porch', zoneType: 'entry_point', armed: false }] });
    expect(failed(armedZone, switchedOff)).toStrictEqual(['armed_zone']);
    // Restricted to the rule's zones when it lists some.
    const twoZones = facts({
      zones: [
        { id: 'porch', name: 'Porch', zoneType: 'entry_point', armed: false },
        { id: 'yard', name: 'Yard', zoneType: 'yard', armed: true },
      ],
    });
    expect(failed(rule({ requireArmedZone: true, zoneIds: ['porch', 'yard'] }), twoZones)).toStrictEqual([]);
    expect(failed(rule({ requireArmedZone: true, zoneIds: ['porch'] }), twoZones)).toStrictEqual(['armed_zone']);
  });
});

describe('matchRule: combined conditions', () => {
  const nightPerson = rule({
    riskThreshold: 60,
    cameraIds: ['front_door'],
    zoneIds: ['porch'],
    objectTypes: ['person'],
    minConfidence: 0.8,
    schedule: { days: ['wed'], start: '22:00', end: '06:00' },
    houseModes: ['armed_away', 'armed_night'],
    requireArmedZone: true,
  });

  it('matches only when every condition holds', () => {
    expect(matchRule(nightPerson, facts(), NIGHT)).toStrictEqual({ matched: true, failedConditions: [] });
    // Thursday 02:00 Berlin still belongs to Wednesday night.
    expect(matchRule(nightPerson, facts(), new Date('2026-01-08T01:00:00Z')).matched).toBe(true);
  });

  it('lists every failing condition, not only the first', () => {
    const quiet = facts({ riskScore: 20, riskLevel: 'low', cameraId: 'garage', houseMode: 'disarmed' });
    expect(failed(nightPerson, quiet, NOON)).toStrictEqual([
      'risk_threshold',
      'camera_ids',
      'schedule',
      'house_modes',
      'armed_zone',
    ]);
  });
});

describe('DEFAULT_ALERT_RULES', () => {
  const [personNight, critical, awayHigh] = DEFAULT_ALERT_RULES;

  it('are valid and have stable ids', () => {
    expect(DEFAULT_ALERT_RULES.map((r) => [r.id, r.severity, validateAlertRule(r)])).toStrictEqual([
      ['00000000-0000-4000-8000-000000000001', 'high', []],
      ['00000000-0000-4000-8000-000000000002', 'critical', []],
      ['00000000-0000-4000-8000-000000000003', 'high', []],
    ]);
  });

  it('fire for the situations they describe', () => {
    const lowNight = facts({ riskScore: 20, riskLevel: 'low', houseMode: 'armed_night' });
    expect(matchRule(personNight!, lowNight, NIGHT).matched).toBe(true);
    expect(matchRule(personNight!, lowNight, NOON).matched).toBe(false);
    expect(matchRule(personNight!, facts({ houseMode: 'disarmed' }), NIGHT).matched).toBe(false);
    expect(matchRule(critical!, facts({ riskScore: 85, riskLevel: 'critical' }), NOON).matched).toBe(true);
    expect(matchRule(critical!, facts({ riskScore: 84 }), NOON).matched).toBe(false);
    expect(matchRule(awayHigh!, facts(), NOON).matched).toBe(true);
    expect(matchRule(awayHigh!, facts({ houseMode: 'armed_home' }), NOON).matched).toBe(false);
  });

  it('alarm for a person at night on a camera without zones while away (its whole view is armed)', () => {
    const noZones = facts({ zones: [], houseMode: 'armed_away', riskScore: 84 });
    expect(matchRule(personNight!, noZones, NIGHT).matched).toBe(false);
    expect(matchRule(personNight!, { ...noZones, cameraArmed: true }, NIGHT).matched).toBe(true);
    // A rule restricted to named zones still needs one of them.
    const porchOnly = rule({ requireArmedZone: true, zoneIds: ['porch'] });
    expect(matchRule(porchOnly, { ...noZones, cameraArmed: true }, NIGHT).matched).toBe(false);
  });
});

describe('chooseAlertRule: one alert per event', () => {
  it('takes the most severe matching rule, the earlier one on a tie, and lists the others', () => {
    const [personNight, critical, awayHigh] = DEFAULT_ALERT_RULES;
    expect(chooseAlertRule([])).toBeUndefined();
    const both = chooseAlertRule([personNight!, awayHigh!]);
    expect([both?.rule.id, both?.others.map((r) => r.id)]).toStrictEqual([personNight!.id, [awayHigh!.id]]);
    const three = chooseAlertRule([personNight!, critical!, awayHigh!]);
    expect([three?.rule.severity, three?.others.length]).toStrictEqual(['critical', 2]);
  });
});

describe('validateAlertRule', () => {
  it('names each bad value', () => {
    const bad = rule({
      name: ' ',
      riskThreshold: 101,
      minConfidence: 1.5,
      cooldownSeconds: -1,
      schedule: { start: '22:00', end: '6' },
      dedupKeyTemplate: '{camera}:{rule_id',
    });
    expect(validateAlertRule(bad)).toStrictEqual([
      'name must not be empty',
      'risk_threshold must be an integer 0-100, got 101',
      'min_confidence must be between 0 and 1, got 1.5',
      'cooldown_seconds must be a whole number of seconds >= 0, got -1',
      'schedule.end must be a 24-hour time "HH:MM", got "6"',
      'dedup_key_template has unknown placeholder {camera}; use {camera_id} {rule_id} {event_id} {risk_level} {severity} {object_type} {zone_id}',
      'dedup_key_template has an unbalanced brace',
    ]);
  });
});

describe('dedup keys', () => {
  it('defaults to {camera_id}:{rule_id}', () => {
    expect(dedupKeyFor(rule(), facts())).toBe('front_door:r1');
  });

  it('fills every placeholder; object_type is the most confident type', () => {
    const template = '{camera_id}|{rule_id}|{event_id}|{risk_level}|{severity}|{object_type}|{zone_id}';
    expect(validateDedupTemplate(template)).toStrictEqual([]);
    expect(dedupKeyFor(rule({ dedupKeyTemplate: template }), facts())).toBe('front_door|r1|42|high|high|car|porch');
    expect(
      dedupKeyFor(rule({ dedupKeyTemplate: '{object_type}/{zone_id}' }), facts({ confidenceByType: {}, zones: [] })),
    ).toBe('none/none');
  });

  it('throws for a placeholder without a value', () => {
    expect(renderDedupKey('{camera_id}-{x}', { camera_id: 'garage', x: 3 })).toBe('garage-3');
    expect(() => renderDedupKey('{camera_id}:{zone}', { camera_id: 'garage' })).toThrowError(
      'dedup key template "{camera_id}:{zone}" uses {zone}, which has no value',
    );
    expect(validateDedupTemplate('')).toStrictEqual(['dedup_key_template must not be empty']);
  });
});

describe('cooldownActive', () => {
  const last = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('is active strictly within the cooldown', () => {
    expect(cooldownActive(null, 300, last)).toBe(false);
    expect(cooldownActive(undefined, 300, last)).toBe(false);
    expect(cooldownActive(last, 300, last + 299_999)).toBe(true);
    expect(cooldownActive(new Date(last), 300, new Date(last + 300_000))).toBe(false);
    expect(cooldownActive(last, 0, last)).toBe(false);
  });

  it('treats a last alert in the future (clock skew) as active', () => {
    expect(cooldownActive(last + 5_000, 300, last)).toBe(true);
  });
});

describe('transitionAlert', () => {
  it('allows the documented lifecycle', () => {
    expect(transitionAlert('pending', 'deliver')).toBe('delivered');
    expect(transitionAlert('pending', 'acknowledge')).toBe('acknowledged');
    expect(transitionAlert('pending', 'dismiss')).toBe('dismissed');
    expect(transitionAlert('delivered', 'acknowledge')).toBe('acknowledged');
    expect(transitionAlert('delivered', 'dismiss')).toBe('dismissed');
  });

  it('refuses everything else with a permanent INVALID_TRANSITION error', () => {
    const refused = (
      [
        ['delivered', 'deliver'],
        ['acknowledged', 'dismiss'],
        ['acknowledged', 'acknowledge'],
        ['dismissed', 'deliver'],
      ] as const
    ).map(([status, action]) => {
      try {
        transitionAlert(status, action);
        return 'allowed';
      } catch (error) {
        return error instanceof AppError ? [error.code, error.permanent, error.message] : 'other error';
      }
    });
    expect(refused).toStrictEqual([
      [
        'INVALID_TRANSITION',
        true,
        'cannot deliver an alert that is delivered (allowed from delivered: acknowledge, dismiss)',
      ],
      ['INVALID_TRANSITION', true, 'cannot dismiss an alert that is acknowledged (acknowledged is final)'],
      ['INVALID_TRANSITION', true, 'cannot acknowledge an alert that is acknowledged (acknowledged is final)'],
      ['INVALID_TRANSITION', true, 'cannot deliver an alert that is dismissed (dismissed is final)'],
    ]);
  });
});
