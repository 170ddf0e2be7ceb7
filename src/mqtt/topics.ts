import { RISK_LEVELS } from '../domain/risk.js';
import { AppError } from '../lib/errors.js';

/**
 * Every MQTT topic HSI uses, as pure functions of the base topic (`mqtt.base_topic`, e.g. `hsi`) and Home
 * Assistant's discovery prefix (`mqtt.discovery_prefix`, e.g. `homeassistant`). Nothing else builds topics.
 *
 * State topics chosen here beyond the contract in docs/HA-MQTT.md (camera `<id>`, all under `<base>/`):
 * - `cameras/<id>/motion`, `cameras/<id>/person`: `ON` when a detection arrives (HA turns them off after off_delay)
 * - `cameras/<id>/risk`: retained JSON of the last event (risk_score, risk_level and its attributes)
 * - `cameras/<id>/security_event`: one `{"event_type": "<level>", …}` per new security event
 * - `hub/alert`: one `{"event_type": "<severity>", …}` per new alert
 * - `hub/active_alerts`: retained `{"count": n, "alerts": [newest 10]}`
 * - `hub/stranger`: one `{"event_type": "stranger", …}` per security event that shows an unknown person
 * - `hub/visitors_today`: retained `{"count": n, "since": "<local midnight>"}`
 * - `members/<id>/state`: retained JSON of a household member (last seen, camera, via, present)
 */

export type AlertCommand = 'acknowledge' | 'dismiss';

export type CommandTopic =
  | { kind: 'alarm_set' }
  | { kind: 'alerts'; action: AlertCommand }
  | { kind: 'detect_set'; cameraId: string }
  | { kind: 'zone_armed_set'; zoneId: string }
  | { kind: 'unknown' };

function invalid(message: string): AppError {
  return new AppError('INVALID_INPUT', message, { permanent: true });
}

/** A base topic or prefix: non-empty, no wildcards, no empty level (`a//b`, leading or trailing `/`). */
function root(value: string, field: string): string {
  if (value === '' || /[#+\s\0]/.test(value) || value.split('/').includes('')) {
    throw invalid(
      `${field} ${JSON.stringify(value)} is not a usable MQTT topic prefix: no wildcards, spaces or empty levels`,
    );
  }
  return value;
}

/** One topic level built from an id (camera, zone, object type): non-empty, no `/`, `+`, `#`. */
function level(value: string, field: string): string {
  if (value === '' || /[/#+\0]/.test(value)) {
    throw invalid(`${field} ${JSON.stringify(value)} cannot be one MQTT topic level (empty, or has / + # in it)`);
  }
  return value;
}

function under(base: string, ...parts: string[]): string {
  return [root(base, 'mqtt.base_topic'), ...parts].join('/');
}

export const availabilityTopic = (base: string): string => under(base, 'availability');
export const alarmStateTopic = (base: string): string => under(base, 'alarm', 'state');
export const alarmSetTopic = (base: string): string => under(base, 'alarm', 'set');
export const alertsCommandTopic = (base: string, action: AlertCommand): string => under(base, 'alerts', action);
export const systemHealthTopic = (base: string): string => under(base, 'health', 'system');
/** Retained GPU telemetry (`nvidia-smi` samples), present only where a GPU was found. */
export const gpuHealthTopic = (base: string): string => under(base, 'health', 'gpu');
export const hubAlertEventTopic = (base: string): string => under(base, 'hub', 'alert');
export const activeAlertsTopic = (base: string): string => under(base, 'hub', 'active_alerts');
export const strangerEventTopic = (base: string): string => under(base, 'hub', 'stranger');
export const visitorsTodayTopic = (base: string): string => under(base, 'hub', 'visitors_today');
/** A household member's retained state (identity feature): last seen, where, how, and whether present. */
export const memberStateTopic = (base: string, memberId: number): string =>
  under(base, 'members', level(String(memberId), 'member id'), 'state');

export const cameraHealthTopic = (base: string, cameraId: string): string =>
  under(base, 'health', 'cameras', level(cameraId, 'camera id'));
export const detectionsTopic = (base: string, cameraId: string, objectType: string): string =>
  under(base, 'detections', level(cameraId, 'camera id'), level(objectType, 'object type'));
export const eventsTopic = (base: string, cameraId: string): string =>
  under(base, 'events', level(cameraId, 'camera id'));
export const alertsStreamTopic = (base: string, severity: string): string =>
  under(base, 'alerts', level(severity, 'alert severity'));

function cameraTopic(base: string, cameraId: string, ...rest: string[]): string {
  return under(base, 'cameras', level(cameraId, 'camera id'), ...rest);
}

export const snapshotTopic = (base: string, cameraId: string): string => cameraTopic(base, cameraId, 'snapshot');
export const detectSetTopic = (base: string, cameraId: string): string => cameraTopic(base, cameraId, 'detect', 'set');
export const detectStateTopic = (base: string, cameraId: string): string =>
  cameraTopic(base, cameraId, 'detect', 'state');
export const motionStateTopic = (base: string, cameraId: string): string => cameraTopic(base, cameraId, 'motion');
export const personStateTopic = (base: string, cameraId: string): string => cameraTopic(base, cameraId, 'person');
export const riskStateTopic = (base: string, cameraId: string): string => cameraTopic(base, cameraId, 'risk');
export const securityEventTopic = (base: string, cameraId: string): string =>
  cameraTopic(base, cameraId, 'security_event');

export const zoneArmedSetTopic = (base: string, zoneId: string): string =>
  under(base, 'zones', level(zoneId, 'zone id'), 'armed', 'set');
export const zoneArmedStateTopic = (base: string, zoneId: string): string =>
  under(base, 'zones', level(zoneId, 'zone id'), 'armed', 'state');

/** Where the answer to a JSON command goes: `<base>/alerts/dismiss` → `<base>/response/alerts/dismiss`. */
export function responseTopic(base: string, commandTopic: string): string {
  const prefix = `${root(base, 'mqtt.base_topic')}/`;
  if (!commandTopic.startsWith(prefix) || commandTopic.length === prefix.length) {
    throw invalid(`command topic ${JSON.stringify(commandTopic)} is not under the base topic ${JSON.stringify(base)}`);
  }
  return under(base, 'response', commandTopic.slice(prefix.length));
}

/** Home Assistant's birth and last-will topic. */
export const homeAssistantStatusTopic = (discoveryPrefix: string): string =>
  `${root(discoveryPrefix, 'mqtt.discovery_prefix')}/status`;

/** The base topic as a discovery object id part (`[a-zA-Z0-9_-]` only): `home/hsi` → `home_hsi`. */
export function discoveryNodeId(base: string): string {
  return root(base, 'mqtt.base_topic').replace(/[^a-zA-Z0-9_-]/g, '_');
}

export const hubObjectId = (base: string): string => `${discoveryNodeId(base)}_hub`;
export const cameraObjectId = (base: string, cameraId: string): string =>
  `${discoveryNodeId(base)}_${level(cameraId, 'camera id').replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/** `<prefix>/device/<object_id>/config`: one retained device-based discovery message per device. */
export function deviceConfigTopic(discoveryPrefix: string, objectId: string): string {
  if (!/^[a-zA-Z0-9_-]+$/.test(objectId)) {
    throw invalid(`discovery object id ${JSON.stringify(objectId)} may only use a-z, A-Z, 0-9, _ and -`);
  }
  return `${root(discoveryPrefix, 'mqtt.discovery_prefix')}/device/${objectId}/config`;
}

/**
 * The filters the bridge subscribes to for commands: every command topic, and the shapes a mistyped command takes
 * (`…/set` one to three levels below the base, `alerts/<action>`), so it is refused and audited instead of ignored.
 * `alerts/+` also brings back HSI's own `alerts/<severity>` streams, which `isCommandAttempt` tells apart.
 */
export function commandSubscriptions(base: string): string[] {
  return [
    under(base, '+', 'set'),
    under(base, '+', '+', 'set'),
    under(base, '+', '+', '+', 'set'),
    under(base, 'alerts', '+'),
  ];
}

/**
 * Whether a topic that `parseCommandTopic` calls unknown was meant as a command: under the base, matching a filter
 * of `commandSubscriptions`, and not one of HSI's own alert streams.
 */
export function isCommandAttempt(base: string, topic: string): boolean {
  const prefix = `${root(base, 'mqtt.base_topic')}/`;
  if (!topic.startsWith(prefix)) return false;
  const parts = topic.slice(prefix.length).split('/');
  if (parts.length === 2 && parts[0] === 'alerts') return !(RISK_LEVELS as readonly string[]).includes(parts[1] ?? '');
  return parts.length >= 2 && parts.length <= 4 && parts.at(-1) === 'set';
}

/** Which command a topic carries; anything else under (or outside) the base topic is `unknown`. */
export function parseCommandTopic(base: string, topic: string): CommandTopic {
  const prefix = `${root(base, 'mqtt.base_topic')}/`;
  if (!topic.startsWith(prefix)) return { kind: 'unknown' };
  const parts = topic.slice(prefix.length).split('/');
  const [first, id, third, fourth] = parts;
  if (parts.length === 2 && first === 'alarm' && id === 'set') return { kind: 'alarm_set' };
  if (parts.length === 2 && first === 'alerts' && (id === 'acknowledge' || id === 'dismiss')) {
    return { kind: 'alerts', action: id };
  }
  if (parts.length !== 4 || id === undefined || id === '' || fourth !== 'set') return { kind: 'unknown' };
  if (first === 'cameras' && third === 'detect') return { kind: 'detect_set', cameraId: id };
  if (first === 'zones' && third === 'armed') return { kind: 'zone_armed_set', zoneId: id };
  return { kind: 'unknown' };
}
