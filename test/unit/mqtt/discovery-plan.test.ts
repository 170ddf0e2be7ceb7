import { describe, expect, it } from 'vitest';
import {
  type DiscoveryInput,
  discoveryMessages,
  discoveryPlan,
  isOwnDiscoveryPayload,
} from '../../../src/mqtt/discovery.js';

const input: DiscoveryInput = {
  baseTopic: 'hsi',
  discoveryPrefix: 'homeassistant',
  version: '1.2.3',
  supportUrl: 'https://example.org/hsi',
  cameras: [
    { id: 'front_door', name: 'Front Door' },
    { id: 'garage', name: 'Garage' },
  ],
  zones: [
    { id: 'porch', cameraId: 'front_door', name: 'Porch' },
    { id: 'path', cameraId: 'front_door', name: 'Path' },
  ],
  alarmCodeRequired: false,
  motionOffDelayS: 30,
};

const HUB = 'homeassistant/device/hsi_hub/config';
const FRONT = 'homeassistant/device/hsi_front_door/config';
const GARAGE = 'homeassistant/device/hsi_garage/config';

/** What the broker retains after publishing a plan. */
function retained(previous: ReadonlyMap<string, string>, plan: ReturnType<typeof discoveryPlan>): Map<string, string> {
  const next = new Map(previous);
  for (const { topic, payload } of plan.publish) next.set(topic, payload);
  for (const topic of plan.clear) next.delete(topic);
  return next;
}

describe('discoveryPlan', () => {
  it('publishes every device the first time, as retained JSON strings in order', () => {
    const messages = discoveryMessages(input);
    const plan = discoveryPlan(new Map(), messages);
    expect(plan).toStrictEqual({
      publish: messages.map((m) => ({ topic: m.topic, payload: JSON.stringify(m.payload) })),
      clear: [],
      followUp: false,
    });
    expect(plan.publish.map((p) => p.topic)).toStrictEqual([HUB, FRONT, GARAGE]);
  });

  it('publishes nothing when every message is identical to what is retained', () => {
    const messages = discoveryMessages(input);
    const state = retained(new Map(), discoveryPlan(new Map(), messages));
    expect(discoveryPlan(state, discoveryMessages(input))).toStrictEqual({ publish: [], clear: [], followUp: false });
  });

  it('republishes only the devices that changed', () => {
    const state = retained(new Map(), discoveryPlan(new Map(), discoveryMessages(input)));
    const renamed = discoveryMessages({
      ...input,
      cameras: [{ id: 'front_door', name: 'Porch Cam' }, input.cameras[1]!],
    });
    const plan = discoveryPlan(state, renamed);
    expect(plan.publish.map((p) => p.topic)).toStrictEqual([FRONT]);
    expect(JSON.parse(plan.publish[0]!.payload).dev.name).toBe('Porch Cam');
    expect(plan.clear).toStrictEqual([]);
  });

  it('clears a removed camera with an empty retained payload, once', () => {
    const state = retained(new Map(), discoveryPlan(new Map(), discoveryMessages(input)));
    const withoutGarage = discoveryMessages({ ...input, cameras: [input.cameras[0]!] });
    const plan = discoveryPlan(state, withoutGarage);
    expect(plan).toStrictEqual({ publish: [], clear: [GARAGE], followUp: false });
    const cleared = new Map(state).set(GARAGE, '');
    expect(discoveryPlan(cleared, withoutGarage)).toStrictEqual({ publish: [], clear: [], followUp: false });
  });

  it('reduces a removed zone to {"p": "switch"} first, then drops it on the follow-up', () => {
    const state = retained(new Map(), discoveryPlan(new Map(), discoveryMessages(input)));
    const withoutPath = discoveryMessages({ ...input, zones: [input.zones[0]!] });
    const first = discoveryPlan(state, withoutPath);
    expect(first.publish.map((p) => p.topic)).toStrictEqual([FRONT]);
    expect(first.clear).toStrictEqual([]);
    expect(first.followUp).toBe(true);
    const reduced = JSON.parse(first.publish[0]!.payload);
    const finalPayload = withoutPath[1]!.payload;
    expect(reduced).toStrictEqual({
      ...JSON.parse(JSON.stringify(finalPayload)),
      cmps: { ...JSON.parse(JSON.stringify(finalPayload.cmps)), zone_path_armed: { p: 'switch' } },
    });

    const second = discoveryPlan(retained(state, first), withoutPath);
    expect(second).toStrictEqual({
      publish: [{ topic: FRONT, payload: JSON.stringify(finalPayload) }],
      clear: [],
      followUp: false,
    });
    const third = discoveryPlan(retained(retained(state, first), second), withoutPath);
    expect(third).toStrictEqual({ publish: [], clear: [], followUp: false });
  });

  it('republishes a payload it cannot read, and clears leftovers it no longer wants unless already empty', () => {
    const messages = discoveryMessages(input);
    const state = new Map([
      [HUB, 'not json'],
      ['homeassistant/device/hsi_attic/config', '{broken'],
      ['homeassistant/device/hsi_shed/config', ''],
    ]);
    const plan = discoveryPlan(state, messages);
    expect(plan.publish.map((p) => p.topic)).toStrictEqual([HUB, FRONT, GARAGE]);
    expect(plan.clear).toStrictEqual(['homeassistant/device/hsi_attic/config']);
    expect(plan.followUp).toBe(false);
  });
});

describe('isOwnDiscoveryPayload', () => {
  it("recognises this instance's devices by their availability topic, and nothing else", () => {
    const [hub, front] = discoveryMessages(input);
    expect(isOwnDiscoveryPayload('hsi', JSON.stringify(hub!.payload))).toBe(true);
    expect(isOwnDiscoveryPayload('hsi', JSON.stringify(front!.payload))).toBe(true);
    expect(isOwnDiscoveryPayload('hsi_test', JSON.stringify(front!.payload))).toBe(false);
    const other = {
      dev: { ids: 'x' },
      o: { name: 'z2m' },
      cmps: { a: { p: 'sensor', availability: [{ topic: 'z2m' }] } },
    };
    expect(isOwnDiscoveryPayload('hsi', JSON.stringify(other))).toBe(false);
    expect(isOwnDiscoveryPayload('hsi', '')).toBe(false);
    expect(isOwnDiscoveryPayload('hsi', 'null')).toBe(false);
    expect(isOwnDiscoveryPayload('hsi', '{"cmps": {"a": null}}')).toBe(false);
  });
});
