import { RISK_LEVELS } from '../domain/risk.js';
import type { DiscoveryInput } from './discovery.js';
import {
  activeAlertsTopic,
  alarmSetTopic,
  alarmStateTopic,
  alertsCommandTopic,
  cameraHealthTopic,
  detectSetTopic,
  detectStateTopic,
  hubAlertEventTopic,
  motionStateTopic,
  personStateTopic,
  riskStateTopic,
  securityEventTopic,
  snapshotTopic,
  systemHealthTopic,
  zoneArmedSetTopic,
  zoneArmedStateTopic,
} from './topics.js';

/**
 * The components (entities) of the hub and camera devices, one builder per device; discovery.ts wraps them in
 * device messages. Keys and options follow Home Assistant's documented schema of each MQTT platform.
 */

export type Platform = 'alarm_control_panel' | 'binary_sensor' | 'button' | 'event' | 'image' | 'sensor' | 'switch';

export interface AvailabilityEntry {
  topic: string;
}

export interface Component {
  p: Platform;
  name: string;
  unique_id: string;
  default_entity_id: string;
  availability: AvailabilityEntry[];
  [option: string]: unknown;
}

const RISK_EVENT_TYPES = [...RISK_LEVELS];

/** `binary_sensor.hsi_front_door_motion` from the platform and the unique id. */
export function defaultEntityId(platform: Platform, uniqueId: string): string {
  const objectId = uniqueId
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  return `${platform}.${objectId}`;
}

export interface Scope {
  /** `<node>_hub` or `<node>_<camera_id>`: prefix of every unique id of the device. */
  idPrefix: string;
  availability: AvailabilityEntry[];
  /** Extra options for every component of this scope. */
  shared: Record<string, unknown>;
}

export function component(
  scope: Scope,
  key: string,
  p: Platform,
  name: string,
  options: Record<string, unknown>,
): Component {
  const uniqueId = `${scope.idPrefix}_${key}`;
  return {
    p,
    name,
    unique_id: uniqueId,
    default_entity_id: defaultEntityId(p, uniqueId),
    availability: scope.availability.map((entry) => ({ ...entry })),
    ...scope.shared,
    ...options,
  };
}

function alarmComponent(input: DiscoveryInput, hub: Scope): Component {
  const base = input.baseTopic;
  const code = input.alarmCodeRequired
    ? {
        code: input.alarmCodeFormat === 'text' ? 'REMOTE_CODE_TEXT' : 'REMOTE_CODE',
        command_template: "{{ {'action': action, 'code': code} | tojson }}",
      }
    : {};
  return component(hub, 'alarm', 'alarm_control_panel', 'Alarm', {
    state_topic: alarmStateTopic(base),
    command_topic: alarmSetTopic(base),
    supported_features: ['arm_home', 'arm_away', 'arm_night'],
    code_arm_required: input.alarmCodeRequired,
    code_disarm_required: input.alarmCodeRequired,
    ...code,
  });
}

function healthSensor(hub: Scope, base: string, key: string, name: string, options: Record<string, unknown>) {
  return component(hub, key, 'sensor', name, {
    state_topic: systemHealthTopic(base),
    state_class: 'measurement',
    entity_category: 'diagnostic',
    ...options,
  });
}

/** What the enabled features add to the hub (GPU statistics, ...), in feature order. */
function sourceComponents(input: DiscoveryInput, hub: Scope): Record<string, Component> {
  return Object.assign({}, ...(input.sources ?? []).map((source) => source.hubComponents(input, hub)));
}

export function hubComponents(input: DiscoveryInput, hub: Scope): Record<string, Component> {
  const base = input.baseTopic;
  return {
    ...sourceComponents(input, hub),
    alarm: alarmComponent(input, hub),
    active_alerts: component(hub, 'active_alerts', 'sensor', 'Active alerts', {
      state_topic: activeAlertsTopic(base),
      value_template: '{{ value_json.count }}',
      json_attributes_topic: activeAlertsTopic(base),
      state_class: 'measurement',
      icon: 'mdi:bell-alert',
    }),
    acknowledge_all: component(hub, 'acknowledge_all', 'button', 'Acknowledge all alerts', {
      command_topic: alertsCommandTopic(base, 'acknowledge'),
      payload_press: '{"all": true}',
      icon: 'mdi:bell-check',
    }),
    alert: component(hub, 'alert', 'event', 'Alert', {
      state_topic: hubAlertEventTopic(base),
      event_types: RISK_EVENT_TYPES,
      icon: 'mdi:alarm-light',
    }),
    inference_ms: healthSensor(hub, base, 'inference_ms', 'Inference time', {
      value_template: '{{ value_json.inference_ms.p50 }}',
      json_attributes_topic: systemHealthTopic(base),
      json_attributes_template: '{{ value_json.inference_ms | tojson }}',
      device_class: 'duration',
      unit_of_measurement: 'ms',
    }),
    detection_queue: healthSensor(hub, base, 'detection_queue', 'Detection queue', {
      value_template: '{{ value_json.queues.detection }}',
      unit_of_measurement: 'jobs',
      icon: 'mdi:tray-full',
    }),
    dead_letters: healthSensor(hub, base, 'dead_letters', 'Dead letters', {
      value_template: '{{ value_json.dead_letters }}',
      unit_of_measurement: 'jobs',
      icon: 'mdi:email-alert',
    }),
    events_today: healthSensor(hub, base, 'events_today', 'Events today', {
      value_template: '{{ value_json.events_today }}',
      state_class: 'total_increasing',
      unit_of_measurement: 'events',
      icon: 'mdi:counter',
    }),
    failed_logins: healthSensor(hub, base, 'failed_logins', 'Failed logins', {
      value_template: '{{ value_json.failed_logins }}',
      state_class: 'total_increasing',
      unit_of_measurement: 'attempts',
      icon: 'mdi:shield-lock-outline',
    }),
    // ON (a problem) while uploads are not watched: the media root is gone (a mount lost, a folder deleted).
    ingest_problem: component(hub, 'ingest_problem', 'binary_sensor', 'Upload folder', {
      state_topic: systemHealthTopic(base),
      device_class: 'problem',
      entity_category: 'diagnostic',
      value_template: "{{ 'ON' if value_json.ingest_ok == false else 'OFF' }}",
      json_attributes_topic: systemHealthTopic(base),
      json_attributes_template: '{{ {"problem": value_json.ingest_problem} | tojson }}',
    }),
  };
}

/** Every camera entity lists HSI's availability only; whether the camera uploads is the `status` sensor's state. */
export function cameraComponents(input: DiscoveryInput, cam: Scope, cameraId: string) {
  const base = input.baseTopic;
  const offDelay = input.motionOffDelayS;
  const components: Record<string, Component> = {
    status: component(cam, 'status', 'binary_sensor', 'Status', {
      state_topic: cameraHealthTopic(base, cameraId),
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
    }),
    motion: component(cam, 'motion', 'binary_sensor', 'Motion', {
      state_topic: motionStateTopic(base, cameraId),
      device_class: 'motion',
      off_delay: offDelay,
    }),
    person: component(cam, 'person', 'binary_sensor', 'Person', {
      state_topic: personStateTopic(base, cameraId),
      device_class: 'occupancy',
      off_delay: offDelay,
      icon: 'mdi:account-alert',
    }),
    risk_score: component(cam, 'risk_score', 'sensor', 'Risk score', {
      state_topic: riskStateTopic(base, cameraId),
      value_template: '{{ value_json.risk_score }}',
      json_attributes_topic: riskStateTopic(base, cameraId),
      state_class: 'measurement',
      suggested_display_precision: 0,
      icon: 'mdi:shield-alert',
    }),
    risk_level: component(cam, 'risk_level', 'sensor', 'Risk level', {
      state_topic: riskStateTopic(base, cameraId),
      value_template: '{{ value_json.risk_level }}',
      device_class: 'enum',
      options: RISK_EVENT_TYPES,
      icon: 'mdi:shield-half-full',
    }),
    security_event: component(cam, 'security_event', 'event', 'Security event', {
      state_topic: securityEventTopic(base, cameraId),
      event_types: RISK_EVENT_TYPES,
      icon: 'mdi:cctv',
    }),
    snapshot: component(cam, 'snapshot', 'image', 'Snapshot', {
      image_topic: snapshotTopic(base, cameraId),
      content_type: 'image/jpeg',
    }),
    detection: component(cam, 'detection', 'switch', 'Detection', {
      command_topic: detectSetTopic(base, cameraId),
      state_topic: detectStateTopic(base, cameraId),
      payload_on: 'ON',
      payload_off: 'OFF',
      entity_category: 'config',
      icon: 'mdi:motion-sensor',
    }),
  };
  for (const zone of input.zones.filter((z) => z.cameraId === cameraId)) {
    const key = `zone_${zone.id}_armed`;
    components[key] = component(cam, key, 'switch', `${zone.name} armed`, {
      command_topic: zoneArmedSetTopic(base, zone.id),
      state_topic: zoneArmedStateTopic(base, zone.id),
      payload_on: 'ON',
      payload_off: 'OFF',
      icon: 'mdi:shield-home',
    });
  }
  return components;
}
