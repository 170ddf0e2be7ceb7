import { describe, expect, it } from 'vitest';
import {
  identityHubComponents,
  memberDevice,
  memberStatePayload,
  securityEventPeople,
  strangerEventPayload,
  visitorsTodayPayload,
} from '../../../src/features/identity/ha-entities.js';
import type { VisitPeople } from '../../../src/features/identity/visit-people.js';
import { type DiscoveryInput, discoveryMessages, discoveryPlan } from '../../../src/mqtt/discovery.js';
import type { HaComponentSource } from '../../../src/mqtt/ha-components.js';
import { eventRecord } from '../../support/builders.js';
import { componentProblems } from '../../support/ha-schema.js';

const identity: HaComponentSource = { name: 'identity', hubComponents: identityHubComponents };

const alice = memberDevice({ id: 3, name: 'Alice', role: 'resident', trust: 'full' });
const bob = memberDevice({ id: 4, name: 'Bob', role: 'service_worker', trust: 'monitor' });

const input: DiscoveryInput = {
  baseTopic: 'hsi',
  discoveryPrefix: 'homeassistant',
  version: '1.2.3',
  supportUrl: 'https://example.org/hsi',
  cameras: [{ id: 'front_door', name: 'Front Door' }],
  zones: [],
  alarmCodeRequired: false,
  motionOffDelayS: 30,
  sources: [identity],
  devices: [alice, bob],
};

const service = [{ topic: 'hsi/availability' }];

/** A visit with one member (Alice, by face), one stranger, and the stranger's journey over two cameras. */
const people: VisitPeople = {
  persons: 2,
  members: [{ id: 3, name: 'Alice', trust: 'full', similarity: 0.81, via: 'face', zoneIds: [], schedule: null }],
  unknown: 1,
  unknownEntities: ['e-2'],
  entities: ['e-1', 'e-2'],
  journey: {
    id: 'j-1',
    cameras: ['driveway', 'front_door'],
    steps: [
      { camera_id: 'driveway', at: '2026-11-24T21:13:40.000Z' },
      { camera_id: 'front_door', at: '2026-11-24T21:14:03.250Z' },
    ],
  },
};

describe('identity entities in Home Assistant discovery', () => {
  it('adds the Stranger event and the Visitors today sensor to the hub', () => {
    const [hub] = discoveryMessages(input);
    expect(hub?.payload.cmps.stranger).toStrictEqual({
      p: 'event',
      name: 'Stranger',
      unique_id: 'hsi_hub_stranger',
      default_entity_id: 'event.hsi_hub_stranger',
      availability: service,
      state_topic: 'hsi/hub/stranger',
      event_types: ['stranger'],
      icon: 'mdi:account-question',
    });
    expect(hub?.payload.cmps.visitors_today).toStrictEqual({
      p: 'sensor',
      name: 'Visitors today',
      unique_id: 'hsi_hub_visitors_today',
      default_entity_id: 'sensor.hsi_hub_visitors_today',
      availability: service,
      state_topic: 'hsi/hub/visitors_today',
      value_template: '{{ value_json.count }}',
      json_attributes_topic: 'hsi/hub/visitors_today',
      state_class: 'measurement',
      unit_of_measurement: 'visitors',
      icon: 'mdi:account-group',
    });
  });

  it('publishes one device per member after the cameras, named after the member, via the hub', () => {
    const messages = discoveryMessages(input);
    expect(messages.map((m) => m.topic)).toStrictEqual([
      'homeassistant/device/hsi_hub/config',
      'homeassistant/device/hsi_front_door/config',
      'homeassistant/device/hsi_member_3/config',
      'homeassistant/device/hsi_member_4/config',
    ]);
    const device = messages[2]?.payload;
    expect(device?.dev).toStrictEqual({
      identifiers: ['hsi_member_3'],
      name: 'Alice',
      manufacturer: 'HSI',
      model: 'Household member: resident',
      sw_version: '1.2.3',
      via_device: 'hsi_hub',
    });
    expect(messages[3]?.payload.dev.model).toBe('Household member: service worker');
    expect(device?.cmps).toStrictEqual({
      last_seen: {
        p: 'sensor',
        name: 'Last seen',
        unique_id: 'hsi_member_3_last_seen',
        default_entity_id: 'sensor.hsi_member_3_last_seen',
        availability: service,
        state_topic: 'hsi/members/3/state',
        value_template: '{{ value_json.last_seen }}',
        device_class: 'timestamp',
        json_attributes_topic: 'hsi/members/3/state',
        json_attributes_template:
          "{{ {'camera': value_json.camera, 'via': value_json.via, 'similarity': value_json.similarity} | tojson }}",
        icon: 'mdi:account-clock',
      },
      present: {
        p: 'binary_sensor',
        name: 'Present',
        unique_id: 'hsi_member_3_present',
        default_entity_id: 'binary_sensor.hsi_member_3_present',
        availability: service,
        state_topic: 'hsi/members/3/state',
        value_template: "{{ 'ON' if value_json.present else 'OFF' }}",
        device_class: 'presence',
      },
    });
  });

  it('passes Home Assistant schema checks for every identity component', () => {
    const problems = discoveryMessages(input)
      .filter((m) => m.topic.includes('member') || m.topic.includes('hub'))
      .flatMap((m) => Object.entries(m.payload.cmps).flatMap(([key, c]) => componentProblems(key, c)));
    expect(problems).toStrictEqual([]);
  });

  it('leaves out a member device whose object id a camera already has (the camera wins)', () => {
    const messages = discoveryMessages({ ...input, cameras: [{ id: 'member_3', name: 'Member 3 camera' }] });
    const taken = messages.filter((m) => m.topic === 'homeassistant/device/hsi_member_3/config');
    expect(taken.map((m) => m.payload.dev.name)).toStrictEqual(['Member 3 camera']);
    expect(messages.map((m) => m.topic)).toContain('homeassistant/device/hsi_member_4/config');
  });

  it('clears a deleted member device and republishes a renamed one', () => {
    const previous = new Map(discoveryMessages(input).map((m) => [m.topic, JSON.stringify(m.payload)]));
    const renamed = memberDevice({ id: 3, name: 'Alice B.', role: 'resident', trust: 'full' });
    const plan = discoveryPlan(previous, discoveryMessages({ ...input, devices: [renamed] }));
    expect(plan.clear).toStrictEqual(['homeassistant/device/hsi_member_4/config']);
    expect(plan.publish.map((m) => [m.topic, JSON.parse(m.payload).dev.name])).toStrictEqual([
      ['homeassistant/device/hsi_member_3/config', 'Alice B.'],
    ]);
    expect(plan.followUp).toBe(false);
  });

  it('lists no device without members, and the hub only has its own components without the source', () => {
    const plain = discoveryMessages({ ...input, sources: [], devices: [] });
    expect(plain.map((m) => m.topic)).toStrictEqual([
      'homeassistant/device/hsi_hub/config',
      'homeassistant/device/hsi_front_door/config',
    ]);
    expect(Object.keys(plain[0]?.payload.cmps ?? {})).not.toContain('stranger');
  });
});

describe('identity state payloads', () => {
  const now = new Date('2026-11-24T21:20:00.000Z');
  const sighting = (minutesAgo: number) => ({
    memberId: 3,
    name: 'Carol',
    cameraId: 'front_door',
    detectedAt: new Date(now.getTime() - minutesAgo * 60_000),
    via: 'face' as const,
    similarity: 0.81,
  });

  it('a member is present until presence_minutes after their last sighting, then absent', () => {
    expect(memberStatePayload(sighting(3), now, 10)).toStrictEqual({
      last_seen: '2026-11-24T21:17:00.000Z',
      camera: 'front_door',
      via: 'face',
      similarity: 0.81,
      present: true,
    });
    expect(memberStatePayload(sighting(10), now, 10).present).toBe(true);
    expect(memberStatePayload(sighting(10.01), now, 10).present).toBe(false);
  });

  it('a member never seen: no time, no camera, not present', () => {
    expect(memberStatePayload(undefined, now, 10)).toStrictEqual({
      last_seen: null,
      camera: null,
      via: null,
      similarity: null,
      present: false,
    });
  });

  it('the stranger event names the security event, its camera, the unknown count and the journey cameras', () => {
    expect(strangerEventPayload(eventRecord(), people)).toStrictEqual({
      event_type: 'stranger',
      event_id: 12,
      camera: 'front_door',
      unknown: 1,
      persons: 2,
      members: ['Alice'],
      entities: ['e-1', 'e-2'],
      journey: ['driveway', 'front_door'],
      started_at: '2026-11-24T21:14:03.250Z',
    });
    expect(strangerEventPayload(eventRecord(), { ...people, journey: null }).journey).toBeNull();
  });

  it("the security event's people: members by name, unknown count, journey, and the camera's last recognised", () => {
    const last = { name: 'Alice', detectedAt: new Date('2026-11-24T21:14:03.250Z'), via: 'face' as const };
    expect(securityEventPeople(people, last)).toStrictEqual({
      people: { persons: 2, members: ['Alice'], unknown: 1, journey: ['driveway', 'front_door'] },
      last_recognized: { name: 'Alice', at: '2026-11-24T21:14:03.250Z', via: 'face' },
    });
    const nobody: VisitPeople = { ...people, persons: 0, members: [], unknown: 0, entities: [], journey: null };
    expect(securityEventPeople(nobody, undefined)).toStrictEqual({
      people: { persons: 0, members: [], unknown: 0, journey: null },
      last_recognized: null,
    });
  });

  it('visitors today: the count and the local midnight it counts from', () => {
    expect(visitorsTodayPayload(2, new Date('2026-11-24T05:00:00.000Z'))).toStrictEqual({
      count: 2,
      since: '2026-11-24T05:00:00.000Z',
    });
  });
});
