import type { Db } from '../storage/database.js';
import type { DiscoveryInput } from './discovery.js';
import type { Component, Scope } from './discovery-components.js';

/** A retained or plain message a component source wants published. */
export interface HaMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/**
 * Home Assistant entities a feature adds to the HSI hub device (GPU statistics, later anomalies or who is home).
 * The Home Assistant feature is the only reader: it merges `hubComponents` into the hub's discovery message and
 * calls `refresh` on the health interval (and once at connect), publishing what it returns.
 */
export interface HaComponentSource {
  readonly name: string;
  /** The components, keyed by component key (unique within the hub device). Pure: from the input and own state. */
  hubComponents(input: DiscoveryInput, hub: Scope): Record<string, Component>;
  /**
   * Reads the source's state now: the messages to publish, and whether its components changed (the hub's
   * discovery is then published again). Must not throw for a missing state: return no messages.
   */
  refresh?(db: Db, now: Date): Promise<{ messages: HaMessage[]; rediscover: boolean }>;
}
