import { describe, expect, it } from 'vitest';
import type { MqttCommand } from '../../../src/mqtt/commands.js';
import {
  ALARM,
  alarmState,
  CODE,
  DETECT,
  failure,
  NOW,
  pick,
  refusedLog,
  setup,
  TOPIC,
  ZONE,
} from './command-fakes.js';

describe('alarm/set', () => {
  it('takes plain actions (any case, whitespace trimmed) and the JSON form when no code is configured', async () => {
    const { services, send, logs } = setup();
    // A change publishes its state once, from the bus (arming.changed): the command adds no second copy.
    expect(await send(ALARM, 'ARM_AWAY', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(await send(ALARM, ' arm_night\n', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(await send(ALARM, '{"action": "ARM_HOME", "code": ""}', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(await send(ALARM, '{"action": "DISARM"}', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(services.changes).toStrictEqual([
      'house armed_away by mqtt',
      'house armed_night by mqtt',
      'house armed_home by mqtt',
      'house disarmed by mqtt',
    ]);
    expect(services.audits).toStrictEqual([]);
    // One info line per accepted command, with its origin.
    expect(
      logs().map(({ msg, command, actor, mode, changed }) => ({ msg, command, actor, mode, changed })),
    ).toStrictEqual(
      ['armed_away', 'armed_night', 'armed_home', 'disarmed'].map((mode) => ({
        msg: 'mqtt command applied',
        command: 'alarm/set',
        actor: 'mqtt',
        mode,
        changed: true,
      })),
    );
  });

  it('answers the same mode again with the unchanged state (nothing was announced)', async () => {
    const { services, send } = setup();
    expect(await send(ALARM, 'ARM_AWAY', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(await send(ALARM, 'ARM_AWAY', TOPIC.alarm)).toStrictEqual({ states: alarmState('armed_away') });
    expect(services.mode).toBe('armed_away');
  });

  it('accepts the right code, compared exactly', async () => {
    const { services, send } = setup({ alarmCode: CODE });
    expect(await send(ALARM, `{"action": "ARM_AWAY", "code": "${CODE}"}`, TOPIC.alarm)).toStrictEqual({
      states: [],
    });
    expect(await send(ALARM, `{"action": "DISARM", "code": "${CODE} "}`, TOPIC.alarm)).toStrictEqual({
      states: alarmState('armed_away'),
    });
    expect(services.mode).toBe('armed_away');
  });

  const refusals: [string, string, string, string?][] = [
    ['a wrong code', '{"action": "DISARM", "code": "1234"}', 'wrong code', CODE],
    [
      'a missing code',
      '{"action": "DISARM"}',
      'a code is required: send {"action": "<ACTION>", "code": "<code>"}',
      CODE,
    ],
    [
      'an empty code',
      '{"action": "DISARM", "code": ""}',
      'a code is required: send {"action": "<ACTION>", "code": "<code>"}',
      CODE,
    ],
    [
      'a plain action when a code is needed',
      'DISARM',
      'a code is required: send {"action": "<ACTION>", "code": "<code>"}',
      CODE,
    ],
    [
      'an unknown plain action',
      'ARM_VACATION',
      'payload must be one of DISARM, ARM_HOME, ARM_AWAY, ARM_NIGHT, or {"action": "<ACTION>", "code": "<code>"}',
    ],
    [
      'an unknown JSON action',
      `{"action": "${CODE}", "code": "${CODE}"}`,
      'action must be one of DISARM, ARM_HOME, ARM_AWAY, ARM_NIGHT',
      CODE,
    ],
    ['a code of the wrong type', '{"action": "DISARM", "code": 4711}', 'code must be a string', CODE],
    [
      'an extra field, without naming it',
      `{"action": "DISARM", "${CODE}": 1}`,
      'the payload has an unknown field',
      CODE,
    ],
    ['no action', `{"code": "${CODE}"}`, 'action is missing', CODE],
    [
      'broken JSON',
      `{"action": "DISARM", "code": "${CODE}"`,
      'payload is not valid JSON; send one of DISARM, ARM_HOME, ARM_AWAY, ARM_NIGHT, or {"action": "<ACTION>", "code": "<code>"}',
      CODE,
    ],
  ];

  for (const [name, payload, reason, alarmCode] of refusals) {
    it(`refuses ${name}: mode unchanged and republished, one warn line, no code in logs or audit`, async () => {
      const { services, send, logs, lines } = setup(alarmCode === undefined ? {} : { alarmCode });
      services.mode = 'armed_home';
      expect(await send(ALARM, payload, TOPIC.alarm)).toStrictEqual({ states: alarmState('armed_home') });
      expect(services.changes).toStrictEqual([]);
      expect(services.audits).toStrictEqual([failure('mqtt.alarm.set', 'house', 'house', TOPIC.alarm, reason)]);
      expect(pick(logs())).toStrictEqual(refusedLog(TOPIC.alarm, reason));
      expect(lines.join('')).not.toContain(CODE);
      expect(JSON.stringify(services.audits)).not.toContain(CODE);
    });
  }
});

describe('alarm/set: wrong codes lock the panel out', () => {
  const code = (c: string, action = 'DISARM') => `{"action": "${action}", "code": "${c}"}`;
  const reasons = (audits: readonly { details?: unknown }[]) =>
    audits.map((a) => (a.details as { reason: string }).reason);

  it('refuses every code for 30 s after 3 wrong ones, doubling per wrong code; the right one afterwards resets', async () => {
    const { services, send, logs, clock, handler } = setup({ alarmCode: CODE });
    services.mode = 'armed_away';
    for (const guess of ['0000', '0001', '0002']) {
      expect(await send(ALARM, code(guess), TOPIC.alarm)).toStrictEqual({ states: alarmState('armed_away') });
    }
    // Locked: the right code is refused unchecked too, and HA is told the unchanged state.
    expect(await send(ALARM, code(CODE), TOPIC.alarm)).toStrictEqual({ states: alarmState('armed_away') });
    for (let i = 0; i < 20; i++) await send(ALARM, code(String(1000 + i)), TOPIC.alarm);
    expect(services.mode).toBe('armed_away');
    expect(services.changes).toStrictEqual([]);
    // One audit row and one warning for the 21 codes refused during the lockout, not one each.
    expect(reasons(services.audits)).toStrictEqual([
      'wrong code',
      'wrong code',
      'wrong code; too many wrong codes: the alarm panel refuses every code for 30 s',
      'too many wrong codes: the alarm panel refuses every code for another 30 s (1 code(s) refused during the lockout since the last report)',
    ]);
    expect(logs().filter((l) => l.level === 40)).toHaveLength(4);
    expect(handler.failedCodes).toBe(24);

    clock.advance(30_000);
    await send(ALARM, code('9999'), TOPIC.alarm);
    expect(reasons(services.audits).at(-1)).toBe(
      'wrong code; too many wrong codes: the alarm panel refuses every code for 60 s',
    );
    clock.advance(59_000);
    await send(ALARM, code(CODE), TOPIC.alarm);
    expect(services.mode).toBe('armed_away');
    clock.advance(1000);
    expect(await send(ALARM, code(CODE), TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(services.mode).toBe('disarmed');
    // Reset: two wrong codes are allowed again before the third locks for 30 s.
    for (const guess of ['1111', '2222', '3333']) await send(ALARM, code(guess, 'ARM_AWAY'), TOPIC.alarm);
    expect(reasons(services.audits).slice(-3)).toStrictEqual([
      'wrong code',
      'wrong code',
      'wrong code; too many wrong codes: the alarm panel refuses every code for 30 s',
    ]);
  });

  it('a missing code is refused without counting as a guess', async () => {
    const { send, handler } = setup({ alarmCode: CODE });
    for (let i = 0; i < 5; i++) await send(ALARM, '{"action": "DISARM"}', TOPIC.alarm);
    expect(handler.failedCodes).toBe(0);
    expect(await send(ALARM, code(CODE, 'ARM_AWAY'), TOPIC.alarm)).toStrictEqual({ states: [] });
  });
});

describe('cameras/<id>/detect/set and zones/<id>/armed/set', () => {
  it('switches detection with ON/OFF in any case and writes the success row itself', async () => {
    const { services, send, logs } = setup();
    // Each change is announced on the bus (camera.detection_changed), which publishes the state: none in the answer.
    expect(await send(DETECT, 'off', TOPIC.detect)).toStrictEqual({ states: [] });
    expect(await send(DETECT, ' On ', TOPIC.detect)).toStrictEqual({ states: [] });
    expect(services.cameras.get('drive')).toBe(true);
    const success = (enabled: boolean, previous: boolean) => ({
      action: 'mqtt.cameras.detect.set',
      resourceType: 'camera',
      resourceId: 'drive',
      actor: 'mqtt',
      details: { topic: TOPIC.detect, enabled, previous },
      status: 'success',
      timestamp: new Date(NOW),
    });
    expect(services.audits).toStrictEqual([success(false, true), success(true, false)]);
    expect(
      logs().map(({ msg, command, actor, resource_id, enabled }) => ({ msg, command, actor, resource_id, enabled })),
    ).toStrictEqual(
      [false, true].map((enabled) => ({
        msg: 'mqtt command applied',
        command: 'cameras/detect/set',
        actor: 'mqtt',
        resource_id: 'drive',
        enabled,
      })),
    );
  });

  it('refuses a bad switch payload and republishes the current state', async () => {
    const { services, send, logs } = setup();
    const reason = 'payload must be ON or OFF, got "MAYBE"';
    expect(await send(DETECT, 'MAYBE', TOPIC.detect)).toStrictEqual({
      states: [{ kind: 'detect', id: 'drive', value: 'ON' }],
    });
    expect(await send(ZONE, 'MAYBE', TOPIC.zone)).toStrictEqual({
      states: [{ kind: 'zone_armed', id: 'drive__gate', value: 'OFF' }],
    });
    expect(services.changes).toStrictEqual([]);
    expect(services.audits).toStrictEqual([
      failure('mqtt.cameras.detect.set', 'camera', 'drive', TOPIC.detect, reason),
      failure('mqtt.zones.armed.set', 'zone', 'drive__gate', TOPIC.zone, reason),
    ]);
    expect(pick(logs())).toStrictEqual([...refusedLog(TOPIC.detect, reason), ...refusedLog(TOPIC.zone, reason)]);
  });

  it('refuses an unknown camera or zone with nothing to republish', async () => {
    const { services, send, logs } = setup();
    const camera: MqttCommand = { kind: 'detect_set', cameraId: 'attic' };
    const zone: MqttCommand = { kind: 'zone_armed_set', zoneId: 'attic__door' };
    expect(await send(camera, 'OFF', 'hsi/cameras/attic/detect/set')).toStrictEqual({ states: [] });
    expect(await send(zone, 'ON', 'hsi/zones/attic__door/armed/set')).toStrictEqual({ states: [] });
    expect(services.changes).toStrictEqual([]);
    expect(services.audits).toStrictEqual([
      failure('mqtt.cameras.detect.set', 'camera', 'attic', 'hsi/cameras/attic/detect/set', 'no camera with id attic'),
      failure(
        'mqtt.zones.armed.set',
        'zone',
        'attic__door',
        'hsi/zones/attic__door/armed/set',
        'no zone with id attic__door',
      ),
    ]);
    expect(logs()).toHaveLength(2);
  });

  it('arms and disarms a zone; the arming service audits; only an unchanged switch is answered here', async () => {
    const { services, send } = setup();
    expect(await send(ZONE, 'ON', TOPIC.zone)).toStrictEqual({ states: [] });
    expect(await send(ZONE, 'on', TOPIC.zone)).toStrictEqual({
      states: [{ kind: 'zone_armed', id: 'drive__gate', value: 'ON' }],
    });
    expect(await send(ZONE, 'off', TOPIC.zone)).toStrictEqual({ states: [] });
    expect(services.changes).toStrictEqual([
      'zone drive__gate true by mqtt',
      'zone drive__gate true by mqtt',
      'zone drive__gate false by mqtt',
    ]);
    expect(services.audits).toStrictEqual([]);
  });
});
