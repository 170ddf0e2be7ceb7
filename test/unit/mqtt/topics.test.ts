import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.js';
import { topicMatches } from '../../../src/mqtt/topic-filter.js';
import {
  activeAlertsTopic,
  alarmSetTopic,
  alarmStateTopic,
  alertsCommandTopic,
  alertsStreamTopic,
  availabilityTopic,
  type CommandTopic,
  cameraHealthTopic,
  cameraObjectId,
  commandSubscriptions,
  detectionsTopic,
  detectSetTopic,
  detectStateTopic,
  deviceConfigTopic,
  discoveryNodeId,
  eventsTopic,
  homeAssistantStatusTopic,
  hubAlertEventTopic,
  hubObjectId,
  isCommandAttempt,
  motionStateTopic,
  parseCommandTopic,
  personStateTopic,
  responseTopic,
  riskStateTopic,
  securityEventTopic,
  snapshotTopic,
  systemHealthTopic,
  zoneArmedSetTopic,
  zoneArmedStateTopic,
} from '../../../src/mqtt/topics.js';

describe('topic builders', () => {
  it('puts every HSI topic under the base topic, as the contract names them', () => {
    const b = 'hsi';
    expect([
      availabilityTopic(b),
      alarmStateTopic(b),
      alarmSetTopic(b),
      alertsCommandTopic(b, 'acknowledge'),
      alertsCommandTopic(b, 'dismiss'),
      systemHealthTopic(b),
      cameraHealthTopic(b, 'front_door'),
      detectionsTopic(b, 'front_door', 'person'),
      eventsTopic(b, 'front_door'),
      alertsStreamTopic(b, 'critical'),
      snapshotTopic(b, 'front_door'),
      detectSetTopic(b, 'front_door'),
      detectStateTopic(b, 'front_door'),
      zoneArmedSetTopic(b, 'porch'),
      zoneArmedStateTopic(b, 'porch'),
      motionStateTopic(b, 'front_door'),
      personStateTopic(b, 'front_door'),
      riskStateTopic(b, 'front_door'),
      securityEventTopic(b, 'front_door'),
      hubAlertEventTopic(b),
      activeAlertsTopic(b),
    ]).toStrictEqual([
      'hsi/availability',
      'hsi/alarm/state',
      'hsi/alarm/set',
      'hsi/alerts/acknowledge',
      'hsi/alerts/dismiss',
      'hsi/health/system',
      'hsi/health/cameras/front_door',
      'hsi/detections/front_door/person',
      'hsi/events/front_door',
      'hsi/alerts/critical',
      'hsi/cameras/front_door/snapshot',
      'hsi/cameras/front_door/detect/set',
      'hsi/cameras/front_door/detect/state',
      'hsi/zones/porch/armed/set',
      'hsi/zones/porch/armed/state',
      'hsi/cameras/front_door/motion',
      'hsi/cameras/front_door/person',
      'hsi/cameras/front_door/risk',
      'hsi/cameras/front_door/security_event',
      'hsi/hub/alert',
      'hsi/hub/active_alerts',
    ]);
  });

  it('hard-codes neither the base topic nor the discovery prefix', () => {
    expect(availabilityTopic('home/sec')).toBe('home/sec/availability');
    expect(detectSetTopic('home/sec', 'garage')).toBe('home/sec/cameras/garage/detect/set');
    expect(homeAssistantStatusTopic('ha')).toBe('ha/status');
    expect(homeAssistantStatusTopic('homeassistant')).toBe('homeassistant/status');
    expect(deviceConfigTopic('ha', hubObjectId('home/sec'))).toBe('ha/device/home_sec_hub/config');
  });

  it('answers JSON commands on <base>/response/<command path>', () => {
    expect(responseTopic('hsi', 'hsi/alerts/acknowledge')).toBe('hsi/response/alerts/acknowledge');
    expect(responseTopic('a/b', 'a/b/alerts/dismiss')).toBe('a/b/response/alerts/dismiss');
    expect(() => responseTopic('hsi', 'other/alerts/dismiss')).toThrow(/not under the base topic "hsi"/);
    expect(() => responseTopic('hsi', 'hsi/')).toThrow(AppError);
  });

  it('makes discovery object ids from the base topic and camera id', () => {
    expect(discoveryNodeId('hsi')).toBe('hsi');
    expect(discoveryNodeId('home/sec.v2')).toBe('home_sec_v2');
    expect(hubObjectId('hsi')).toBe('hsi_hub');
    expect(cameraObjectId('hsi', 'front_door')).toBe('hsi_front_door');
    expect(deviceConfigTopic('homeassistant', 'hsi_front_door')).toBe('homeassistant/device/hsi_front_door/config');
    expect(() => deviceConfigTopic('homeassistant', 'a b')).toThrow(/may only use a-z/);
  });

  it('refuses ids and prefixes that would break the topic tree, naming the field', () => {
    expect(() => cameraHealthTopic('hsi', 'a/b')).toThrow(/camera id "a\/b" cannot be one MQTT topic level/);
    expect(() => detectionsTopic('hsi', 'cam', '#')).toThrow(/object type "#"/);
    expect(() => zoneArmedSetTopic('hsi', '')).toThrow(/zone id ""/);
    expect(() => availabilityTopic('hsi/')).toThrow(/mqtt.base_topic "hsi\/"/);
    expect(() => availabilityTopic('hs+i')).toThrow(AppError);
    expect(() => homeAssistantStatusTopic('')).toThrow(/mqtt.discovery_prefix/);
  });
});

describe('parseCommandTopic', () => {
  it('round-trips every command topic the builders make', () => {
    const cases: [string, CommandTopic][] = [
      [alarmSetTopic('hsi'), { kind: 'alarm_set' }],
      [alertsCommandTopic('hsi', 'acknowledge'), { kind: 'alerts', action: 'acknowledge' }],
      [alertsCommandTopic('hsi', 'dismiss'), { kind: 'alerts', action: 'dismiss' }],
      [detectSetTopic('hsi', 'front_door'), { kind: 'detect_set', cameraId: 'front_door' }],
      [zoneArmedSetTopic('hsi', 'f2c1-9a'), { kind: 'zone_armed_set', zoneId: 'f2c1-9a' }],
      [detectSetTopic('home/sec', 'garage'), { kind: 'detect_set', cameraId: 'garage' }],
    ];
    for (const [topic, expected] of cases) {
      const base = topic.startsWith('home/sec') ? 'home/sec' : 'hsi';
      expect(parseCommandTopic(base, topic)).toStrictEqual(expected);
    }
  });

  it('calls everything else unknown: states, streams, other bases, near misses', () => {
    const unknown = [
      alarmStateTopic('hsi'),
      detectStateTopic('hsi', 'front_door'),
      zoneArmedStateTopic('hsi', 'porch'),
      availabilityTopic('hsi'),
      'hsi/alerts/critical',
      'hsi/alerts/acknowledge/extra',
      'hsi/cameras//detect/set',
      'hsi/cameras/front_door/detect/set/x',
      'hsi/zones/porch/detect/set',
      'hsi/cameras/front_door/armed/set',
      'hsix/alarm/set',
      'other/alarm/set',
      'hsi',
      '',
    ];
    for (const topic of unknown) expect(parseCommandTopic('hsi', topic)).toStrictEqual({ kind: 'unknown' });
    expect(parseCommandTopic('home/sec', 'hsi/alarm/set')).toStrictEqual({ kind: 'unknown' });
  });

  it('subscribes to every command topic and to the shapes of mistyped ones, and tells them apart', () => {
    const filters = commandSubscriptions('hsi');
    expect(filters).toStrictEqual(['hsi/+/set', 'hsi/+/+/set', 'hsi/+/+/+/set', 'hsi/alerts/+']);
    const commands = [
      alarmSetTopic('hsi'),
      alertsCommandTopic('hsi', 'acknowledge'),
      alertsCommandTopic('hsi', 'dismiss'),
      detectSetTopic('hsi', 'front_door'),
      zoneArmedSetTopic('hsi', 'porch'),
    ];
    const matching = (topic: string) => filters.filter((f) => topicMatches(f, topic));
    for (const topic of commands) expect(matching(topic)).toHaveLength(1);
    const attempts = ['hsi/alarm/sett/set', 'hsi/alerts/ack', 'hsi/cameras/front_door/set', 'hsi/alerts/set'];
    for (const topic of attempts) {
      expect([parseCommandTopic('hsi', topic).kind, isCommandAttempt('hsi', topic)]).toStrictEqual(['unknown', true]);
      expect(matching(topic).length).toBeGreaterThan(0);
    }
    const notCommands = [
      ...['low', 'medium', 'high', 'critical'].map((level) => alertsStreamTopic('hsi', level)),
      alarmStateTopic('hsi'),
      'hsi/a/b/c/d/set',
      'hsi/set',
      'other/alarm/set',
    ];
    for (const topic of notCommands) expect(isCommandAttempt('hsi', topic)).toBe(false);
  });
});
