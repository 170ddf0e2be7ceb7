import { describe, expect, it } from 'vitest';
import { gpuComponents } from '../../../src/features/gpu-stats/gpu-entities.js';
import {
  type Component,
  type DiscoveryInput,
  defaultEntityId,
  discoveryMessages,
} from '../../../src/mqtt/discovery.js';
import type { HaComponentSource } from '../../../src/mqtt/ha-components.js';

/** The GPU statistics feature's hub sensors for `count` GPUs seen. */
const gpus = (count: number): HaComponentSource => ({
  name: 'gpu-stats',
  hubComponents: (input, hub) => gpuComponents(count, input, hub),
});

import {
  DEVICE_CLASS_UNITS,
  DEVICE_CLASSES,
  REQUIRED_OPTIONS as REQUIRED,
  STATE_CLASSES,
} from '../../support/ha-schema.js';

const input: DiscoveryInput = {
  baseTopic: 'hsi',
  discoveryPrefix: 'homeassistant',
  version: '1.2.3',
  supportUrl: 'https://example.org/hsi',
  cameras: [{ id: 'front_door', name: 'Front Door' }],
  zones: [{ id: 'porch', cameraId: 'front_door', name: 'Porch' }],
  alarmCodeRequired: false,
  motionOffDelayS: 30,
};

const service = () => [{ topic: 'hsi/availability' }];
const origin = { name: 'HSI', sw_version: '1.2.3', support_url: 'https://example.org/hsi' };

const hubMessage = {
  topic: 'homeassistant/device/hsi_hub/config',
  payload: {
    dev: {
      identifiers: ['hsi_hub'],
      name: 'HSI',
      manufacturer: 'HSI',
      model: 'Home Security Intelligence hub',
      sw_version: '1.2.3',
    },
    o: origin,
    cmps: {
      alarm: {
        p: 'alarm_control_panel',
        name: 'Alarm',
        unique_id: 'hsi_hub_alarm',
        default_entity_id: 'alarm_control_panel.hsi_hub_alarm',
        availability: service(),
        state_topic: 'hsi/alarm/state',
        command_topic: 'hsi/alarm/set',
        supported_features: ['arm_home', 'arm_away', 'arm_night'],
        code_arm_required: false,
        code_disarm_required: false,
      },
      active_alerts: {
        p: 'sensor',
        name: 'Active alerts',
        unique_id: 'hsi_hub_active_alerts',
        default_entity_id: 'sensor.hsi_hub_active_alerts',
        availability: service(),
        state_topic: 'hsi/hub/active_alerts',
        value_template: '{{ value_json.count }}',
        json_attributes_topic: 'hsi/hub/active_alerts',
        state_class: 'measurement',
        icon: 'mdi:bell-alert',
      },
      acknowledge_all: {
        p: 'button',
        name: 'Acknowledge all alerts',
        unique_id: 'hsi_hub_acknowledge_all',
        default_entity_id: 'button.hsi_hub_acknowledge_all',
        availability: service(),
        command_topic: 'hsi/alerts/acknowledge',
        payload_press: '{"all": true}',
        icon: 'mdi:bell-check',
      },
      alert: {
        p: 'event',
        name: 'Alert',
        unique_id: 'hsi_hub_alert',
        default_entity_id: 'event.hsi_hub_alert',
        availability: service(),
        state_topic: 'hsi/hub/alert',
        event_types: ['low', 'medium', 'high', 'critical'],
        icon: 'mdi:alarm-light',
      },
      inference_ms: {
        p: 'sensor',
        name: 'Inference time',
        unique_id: 'hsi_hub_inference_ms',
        default_entity_id: 'sensor.hsi_hub_inference_ms',
        availability: service(),
        state_topic: 'hsi/health/system',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        value_template: '{{ value_json.inference_ms.p50 }}',
        json_attributes_topic: 'hsi/health/system',
        json_attributes_template: '{{ value_json.inference_ms | tojson }}',
        device_class: 'duration',
        unit_of_measurement: 'ms',
      },
      detection_queue: {
        p: 'sensor',
        name: 'Detection queue',
        unique_id: 'hsi_hub_detection_queue',
        default_entity_id: 'sensor.hsi_hub_detection_queue',
        availability: service(),
        state_topic: 'hsi/health/system',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        value_template: '{{ value_json.queues.detection }}',
        unit_of_measurement: 'jobs',
        icon: 'mdi:tray-full',
      },
      dead_letters: {
        p: 'sensor',
        name: 'Dead letters',
        unique_id: 'hsi_hub_dead_letters',
        default_entity_id: 'sensor.hsi_hub_dead_letters',
        availability: service(),
        state_topic: 'hsi/health/system',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        value_template: '{{ value_json.dead_letters }}',
        unit_of_measurement: 'jobs',
        icon: 'mdi:email-alert',
      },
      events_today: {
        p: 'sensor',
        name: 'Events today',
        unique_id: 'hsi_hub_events_today',
        default_entity_id: 'sensor.hsi_hub_events_today',
        availability: service(),
        state_topic: 'hsi/health/system',
        state_class: 'total_increasing',
        entity_category: 'diagnostic',
        value_template: '{{ value_json.events_today }}',
        unit_of_measurement: 'events',
        icon: 'mdi:counter',
      },
      failed_logins: {
        p: 'sensor',
        name: 'Failed logins',
        unique_id: 'hsi_hub_failed_logins',
        default_entity_id: 'sensor.hsi_hub_failed_logins',
        availability: service(),
        state_topic: 'hsi/health/system',
        state_class: 'total_increasing',
        entity_category: 'diagnostic',
        value_template: '{{ value_json.failed_logins }}',
        unit_of_measurement: 'attempts',
        icon: 'mdi:shield-lock-outline',
      },
      ingest_problem: {
        p: 'binary_sensor',
        name: 'Upload folder',
        unique_id: 'hsi_hub_ingest_problem',
        default_entity_id: 'binary_sensor.hsi_hub_ingest_problem',
        availability: service(),
        state_topic: 'hsi/health/system',
        device_class: 'problem',
        entity_category: 'diagnostic',
        value_template: "{{ 'ON' if value_json.ingest_ok == false else 'OFF' }}",
        json_attributes_topic: 'hsi/health/system',
        json_attributes_template: '{{ {"problem": value_json.ingest_problem} | tojson }}',
      },
    },
    qos: 1,
  },
};

const cameraMessage = {
  topic: 'homeassistant/device/hsi_front_door/config',
  payload: {
    dev: {
      identifiers: ['hsi_front_door'],
      name: 'Front Door',
      manufacturer: 'HSI',
      model: 'Upload folder camera',
      sw_version: '1.2.3',
      via_device: 'hsi_hub',
    },
    o: origin,
    cmps: {
      status: {
        p: 'binary_sensor',
        name: 'Status',
        unique_id: 'hsi_front_door_status',
        default_entity_id: 'binary_sensor.hsi_front_door_status',
        availability: service(),
        state_topic: 'hsi/health/cameras/front_door',
        payload_on: 'online',
        payload_off: 'offline',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
      },
      motion: {
        p: 'binary_sensor',
        name: 'Motion',
        unique_id: 'hsi_front_door_motion',
        default_entity_id: 'binary_sensor.hsi_front_door_motion',
        availability: service(),
        state_topic: 'hsi/cameras/front_door/motion',
        device_class: 'motion',
        off_delay: 30,
      },
      person: {
        p: 'binary_sensor',
        name: 'Person',
        unique_id: 'hsi_front_door_person',
        default_entity_id: 'binary_sensor.hsi_front_door_person',
        availability: service(),
        state_topic: 'hsi/cameras/front_door/person',
        device_class: 'occupancy',
        off_delay: 30,
        icon: 'mdi:account-alert',
      },
      risk_score: {
        p: 'sensor',
        name: 'Risk score',
        unique_id: 'hsi_front_door_risk_score',
        default_entity_id: 'sensor.hsi_front_door_risk_score',
        availability: service(),
        state_topic: 'hsi/cameras/front_door/risk',
        value_template: '{{ value_json.risk_score }}',
        json_attributes_topic: 'hsi/cameras/front_door/risk',
        state_class: 'measurement',
        suggested_display_precision: 0,
        icon: 'mdi:shield-alert',
      },
      risk_level: {
        p: 'sensor',
        name: 'Risk level',
        unique_id: 'hsi_front_door_risk_level',
        default_entity_id: 'sensor.hsi_front_door_risk_level',
        availability: service(),
        state_topic: 'hsi/cameras/front_door/risk',
        value_template: '{{ value_json.risk_level }}',
        device_class: 'enum',
        options: ['low', 'medium', 'high', 'critical'],
        icon: 'mdi:shield-half-full',
      },
      security_event: {
        p: 'event',
        name: 'Security event',
        unique_id: 'hsi_front_door_security_event',
        default_entity_id: 'event.hsi_front_door_security_event',
        availability: service(),
        state_topic: 'hsi/cameras/front_door/security_event',
        event_types: ['low', 'medium', 'high', 'critical'],
        icon: 'mdi:cctv',
      },
      snapshot: {
        p: 'image',
        name: 'Snapshot',
        unique_id: 'hsi_front_door_snapshot',
        default_entity_id: 'image.hsi_front_door_snapshot',
        availability: service(),
        image_topic: 'hsi/cameras/front_door/snapshot',
        content_type: 'image/jpeg',
      },
      detection: {
        p: 'switch',
        name: 'Detection',
        unique_id: 'hsi_front_door_detection',
        default_entity_id: 'switch.hsi_front_door_detection',
        availability: service(),
        command_topic: 'hsi/cameras/front_door/detect/set',
        state_topic: 'hsi/cameras/front_door/detect/state',
        payload_on: 'ON',
        payload_off: 'OFF',
        entity_category: 'config',
        icon: 'mdi:motion-sensor',
      },
      zone_porch_armed: {
        p: 'switch',
        name: 'Porch armed',
        unique_id: 'hsi_front_door_zone_porch_armed',
        default_entity_id: 'switch.hsi_front_door_zone_porch_armed',
        availability: service(),
        command_topic: 'hsi/zones/porch/armed/set',
        state_topic: 'hsi/zones/porch/armed/state',
        payload_on: 'ON',
        payload_off: 'OFF',
        icon: 'mdi:shield-home',
      },
    },
    qos: 1,
  },
};

function allComponents(messages: ReturnType<typeof discoveryMessages>): [string, Component][] {
  return messages.flatMap((m) => Object.entries(m.payload.cmps));
}

describe('discoveryMessages', () => {
  it('builds the exact hub and camera device messages for one camera with one zone', () => {
    expect(discoveryMessages(input)).toStrictEqual([hubMessage, cameraMessage]);
  });

  it("keeps a quiet camera's entities available: only the status sensor reads the camera's health topic", () => {
    const [, cameraDevice] = discoveryMessages(input);
    const cmps = Object.entries(cameraDevice?.payload.cmps ?? {});
    expect(cmps.length).toBeGreaterThan(5);
    for (const [key, c] of cmps) {
      expect({ key, availability: c.availability, mode: c.availability_mode }).toStrictEqual({
        key,
        availability: [{ topic: 'hsi/availability' }],
        mode: undefined,
      });
    }
    const readers = cmps.filter(([, c]) => JSON.stringify(c).includes('hsi/health/cameras/front_door'));
    expect(readers.map(([key, c]) => [key, c.state_topic, c.device_class])).toStrictEqual([
      ['status', 'hsi/health/cameras/front_door', 'connectivity'],
    ]);
  });

  it('says "FTP camera" for a camera with an FTP login, "Upload folder camera" for a folder drop', () => {
    const models = discoveryMessages({
      ...input,
      cameras: [
        { id: 'front_door', name: 'Front Door', ftp: true },
        { id: 'garden', name: 'Garden' },
      ],
    }).map((m) => m.payload.dev.model);
    expect(models).toStrictEqual(['Home Security Intelligence hub', 'FTP camera', 'Upload folder camera']);
  });

  it('adds diagnostic sensors per GPU once a GPU is known, reading the newest sample by index', () => {
    const hubCmps = (gpuCount: number) =>
      discoveryMessages({ ...input, sources: [gpus(gpuCount)] })[0]?.payload.cmps ?? {};
    expect(Object.keys(hubCmps(0)).filter((k) => k.startsWith('gpu'))).toStrictEqual([]);
    const one = hubCmps(1);
    expect(Object.keys(one).filter((k) => k.startsWith('gpu'))).toStrictEqual([
      'gpu0_utilization',
      'gpu0_memory_used',
      'gpu0_temperature',
      'gpu0_power',
    ]);
    expect(one.gpu0_temperature).toMatchObject({
      p: 'sensor',
      name: 'GPU temperature',
      unique_id: 'hsi_hub_gpu0_temperature',
      state_topic: 'hsi/health/gpu',
      device_class: 'temperature',
      unit_of_measurement: '°C',
      state_class: 'measurement',
      entity_category: 'diagnostic',
    });
    expect(one.gpu0_utilization?.value_template).toBe(
      '{{ ((value_json.gpus | default([]))[0] | default({})).utilization_pct | default(None) }}',
    );
    const two = hubCmps(2);
    expect([two.gpu0_power?.name, two.gpu1_power?.name, two.gpu1_memory_used?.unique_id]).toStrictEqual([
      'GPU 0 power',
      'GPU 1 power',
      'hsi_hub_gpu1_memory_used',
    ]);
    expect(String(two.gpu1_power?.value_template)).toContain('[1]');
  });

  it('asks for a remote code and sends action and code as JSON when an alarm code is set', () => {
    const [hub] = discoveryMessages({ ...input, alarmCodeRequired: true });
    expect(hub?.payload.cmps.alarm).toStrictEqual({
      ...hubMessage.payload.cmps.alarm,
      code_arm_required: true,
      code_disarm_required: true,
      code: 'REMOTE_CODE',
      command_template: "{{ {'action': action, 'code': code} | tojson }}",
    });
    const [textHub] = discoveryMessages({ ...input, alarmCodeRequired: true, alarmCodeFormat: 'text' });
    expect(textHub?.payload.cmps.alarm?.code).toBe('REMOTE_CODE_TEXT');
  });

  const many: DiscoveryInput = {
    ...input,
    baseTopic: 'home/sec',
    discoveryPrefix: 'ha',
    sources: [gpus(2)],
    cameras: [
      { id: 'front_door', name: 'Front Door' },
      { id: 'garage', name: 'Garage' },
    ],
    zones: [
      { id: 'porch', cameraId: 'front_door', name: 'Porch' },
      { id: 'path', cameraId: 'front_door', name: 'Path' },
      { id: 'drive-way', cameraId: 'garage', name: 'Driveway' },
      { id: 'gone', cameraId: 'attic', name: 'Attic' },
    ],
    alarmCodeRequired: true,
  };

  it('gives every component a platform and a unique id, unique across devices, and a matching entity id', () => {
    const components = allComponents(discoveryMessages(many));
    expect(components).toHaveLength(10 + 2 * 4 + 2 * 8 + 3); // hub, two GPUs, two cameras, three zones
    const ids = components.map(([, c]) => c.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    const entityIds = components.map(([, c]) => c.default_entity_id);
    expect(new Set(entityIds).size).toBe(entityIds.length);
    for (const [, c] of components) {
      expect(c.p).toMatch(/^(alarm_control_panel|binary_sensor|button|event|image|sensor|switch)$/);
      expect(c.unique_id).toMatch(/^home_sec_(hub|front_door|garage)_[a-z0-9_-]+$/);
      expect(c.default_entity_id).toMatch(new RegExp(`^${c.p}\\.[a-z0-9_]+$`));
    }
    expect(components.map(([key]) => key).filter((k) => k.startsWith('zone_'))).toStrictEqual([
      'zone_porch_armed',
      'zone_path_armed',
      'zone_drive-way_armed',
    ]);
    expect(entityIds).toContain('switch.home_sec_garage_zone_drive_way_armed');
  });

  it("has every platform's required options and only valid device and state classes", () => {
    for (const [key, c] of allComponents(discoveryMessages(many))) {
      const required = REQUIRED[c.p];
      expect(required, `${key}: platform ${c.p} has no required-key table`).toBeDefined();
      for (const alternatives of required ?? []) {
        expect(
          alternatives.some((option) => c[option] !== undefined),
          `${key} needs ${alternatives.join('|')}`,
        ).toBe(true);
      }
      if (c.device_class !== undefined) expect(DEVICE_CLASSES[c.p]).toContain(c.device_class);
      if (c.state_class !== undefined) expect(STATE_CLASSES).toContain(c.state_class);
      if (c.device_class === 'enum') {
        expect([c.options, c.state_class, c.unit_of_measurement]).toStrictEqual([
          ['low', 'medium', 'high', 'critical'],
          undefined,
          undefined,
        ]);
      }
      const units = DEVICE_CLASS_UNITS[String(c.device_class)];
      if (units !== undefined) expect(units, key).toContain(c.unit_of_measurement);
      if (c.entity_category !== undefined) expect(['config', 'diagnostic']).toContain(c.entity_category);
      expect(c.availability[0]).toStrictEqual({ topic: 'home/sec/availability' });
    }
  });

  it('uses the configured prefix and base topic everywhere, never hsi or homeassistant', () => {
    const text = JSON.stringify(discoveryMessages(many));
    expect(text).not.toMatch(/"hsi\/|homeassistant\//);
    expect(discoveryMessages(many).map((m) => m.topic)).toStrictEqual([
      'ha/device/home_sec_hub/config',
      'ha/device/home_sec_front_door/config',
      'ha/device/home_sec_garage/config',
    ]);
  });

  it('refuses a camera id that collides with the hub device, and duplicate camera ids', () => {
    expect(() => discoveryMessages({ ...input, cameras: [{ id: 'hub', name: 'Hub' }] })).toThrow(
      /camera id "hub" is taken by the HSI hub device/,
    );
    expect(() =>
      discoveryMessages({
        ...input,
        cameras: [
          { id: 'a', name: 'A' },
          { id: 'a', name: 'A again' },
        ],
      }),
    ).toThrow(/camera id "a" is listed twice/);
  });

  it('makes entity ids from unique ids in lower case with underscores', () => {
    expect(defaultEntityId('binary_sensor', 'hsi_front_door_motion')).toBe('binary_sensor.hsi_front_door_motion');
    expect(defaultEntityId('switch', 'HSI_cam_zone_3f2a-77__x_armed')).toBe('switch.hsi_cam_zone_3f2a_77_x_armed');
  });
});
