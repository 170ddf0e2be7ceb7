import type { DeviceDiscoveryPayload, DiscoveryMessage } from './discovery.js';
import { availabilityTopic } from './topics.js';

/**
 * What to publish so Home Assistant's discovery matches `next`, given what is already retained (`previous`:
 * device config topic → the JSON string last published there). Pure.
 *
 * - identical payloads are skipped;
 * - a device no longer in `next` is cleared (empty retained payload on its topic);
 * - a device that lost components (a removed zone) is first published with each lost component reduced to
 *   `{"p": "<platform>"}`, HA's documented way to remove one component; `followUp` is then true, and the next
 *   call, once `previous` holds that reduced payload, publishes the device without them.
 */

export interface DiscoveryPlan {
  /** Retained QoS 1 messages, in order. */
  publish: { topic: string; payload: string }[];
  /** Topics to clear with an empty retained payload. */
  clear: string[];
  /** True when a reduced payload was planned: call again (a few seconds later) to drop the stubs. */
  followUp: boolean;
}

type Components = Record<string, Record<string, unknown>>;

function componentsOf(json: string | undefined): Components | undefined {
  if (json === undefined || json === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const cmps = (parsed as { cmps?: unknown }).cmps;
    if (typeof cmps !== 'object' || cmps === null || Array.isArray(cmps)) return undefined;
    return cmps as Components;
  } catch {
    return undefined;
  }
}

const isStub = (config: Record<string, unknown>): boolean => {
  const keys = Object.keys(config);
  return keys.length === 1 && keys[0] === 'p';
};

/** Components of `previous` missing from `next` that have not been reduced to `{p}` yet, as `{p}` stubs. */
function removalStubs(previous: Components | undefined, next: DeviceDiscoveryPayload): Components {
  const stubs: Components = {};
  for (const [key, config] of Object.entries(previous ?? {})) {
    if (key in next.cmps || typeof config !== 'object' || config === null || isStub(config)) continue;
    if (typeof config.p === 'string') stubs[key] = { p: config.p };
  }
  return stubs;
}

export function discoveryPlan(previous: ReadonlyMap<string, string>, next: readonly DiscoveryMessage[]): DiscoveryPlan {
  const plan: DiscoveryPlan = { publish: [], clear: [], followUp: false };
  const wanted = new Set<string>();
  for (const message of next) {
    wanted.add(message.topic);
    const json = JSON.stringify(message.payload);
    const before = previous.get(message.topic);
    if (before === json) continue;
    const stubs = removalStubs(componentsOf(before), message.payload);
    if (Object.keys(stubs).length === 0) {
      plan.publish.push({ topic: message.topic, payload: json });
      continue;
    }
    const reduced = { ...message.payload, cmps: { ...message.payload.cmps, ...stubs } };
    plan.publish.push({ topic: message.topic, payload: JSON.stringify(reduced) });
    plan.followUp = true;
  }
  for (const [topic, payload] of previous) {
    if (!wanted.has(topic) && payload !== '') plan.clear.push(topic);
  }
  return plan;
}

/**
 * Whether a retained device config (read back from `<prefix>/device/+/config`) was published by the HSI instance
 * on `baseTopic`: one of its components lists `<base>/availability`. The bridge fills `previous` with these only,
 * so another instance's or another program's devices are never cleared.
 */
export function isOwnDiscoveryPayload(baseTopic: string, payload: string): boolean {
  const components = componentsOf(payload);
  if (components === undefined) return false;
  const mine = availabilityTopic(baseTopic);
  return Object.values(components).some((config) => {
    const availability = typeof config === 'object' && config !== null ? config.availability : undefined;
    return (
      Array.isArray(availability) &&
      availability.some((entry: unknown) => (entry as { topic?: unknown } | null)?.topic === mine)
    );
  });
}
