import type { BusEvents, EventRecord } from '../domain/events.js';
import type { Db } from '../storage/database.js';
import type { DiscoveryInput } from './discovery.js';
import type { Component, Scope } from './discovery-components.js';

/** A retained or plain message a component source wants published. */
export interface HaMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** What a source wants done now: messages to publish, and whether its entities or devices changed (rediscover). */
export interface HaUpdate {
  messages: HaMessage[];
  rediscover: boolean;
}

/**
 * A device of its own that a source adds beside the hub and the cameras (a household member): one discovery
 * message on `<prefix>/device/<node>_<key>/config`, `via_device` the hub, cleared (empty retained payload) once
 * the source no longer lists it. A key whose object id is already taken (the hub, a camera) is left out.
 */
export interface HaDevice {
  /** `[a-z0-9_]`, unique among the source's devices: `member_3` gives device `hsi_member_3`, unique ids `hsi_member_3_<component>`. */
  key: string;
  /** The device's name in Home Assistant (re-discovered when it changes). */
  name: string;
  model: string;
  /** Its components, keyed by component key, from the device's scope (unique id prefix, HSI's availability). */
  components(input: DiscoveryInput, scope: Scope): Record<string, Component>;
}

/** Bus listeners of a source: each gets the event's payload and returns what to publish. */
export type HaBusHandlers = {
  [K in keyof BusEvents]?: (db: Db, payload: BusEvents[K], now: Date) => Promise<HaUpdate>;
};

/**
 * Home Assistant entities a feature adds (GPU statistics, who is home). The bridge is the only reader: it merges
 * `hubComponents` into the hub's discovery message and publishes `devices` as devices of their own at every
 * discovery run, calls `refresh` on the health interval (and once at connect), subscribes `onBus` to the event bus,
 * and adds `securityEventAttributes` to each camera's security event; it publishes whatever they return.
 */
export interface HaComponentSource {
  readonly name: string;
  /** The components, keyed by component key (unique within the hub device). Pure: from the input and own state. */
  hubComponents(input: DiscoveryInput, hub: Scope): Record<string, Component>;
  /**
   * Reads the source's state now: the messages to publish, and whether its components changed (the hub's
   * discovery is then published again). Must not throw for a missing state: return no messages.
   */
  refresh?(db: Db, now: Date): Promise<HaUpdate>;
  /**
   * The source's own devices as the database has them now, read at every discovery run (so a device still listed
   * keeps its retained config across restarts, and one no longer listed is cleared at the next run). A source
   * whose devices changed between runs says so with `rediscover` from `refresh` or `onBus`.
   */
  devices?(db: Db): Promise<HaDevice[]>;
  /** Bus events the source reacts to (a security event that shows a stranger): one listener per key. */
  readonly onBus?: HaBusHandlers;
  /**
   * Extra attributes of the camera's `security_event` entity for this new event (who was seen). Merged under
   * the core keys (`event_type`, `event_id`, … are never replaced); a failure leaves them out.
   */
  securityEventAttributes?(db: Db, event: EventRecord): Promise<Record<string, unknown>>;
}
