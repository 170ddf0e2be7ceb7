import type { HouseMode } from '../domain/arming.js';
import type { AuditInput } from '../storage/audit.repository.js';

/**
 * The commands HSI takes, whoever sends them (MQTT, HTTP): their inputs, their results, and the services their
 * handlers call. Names are the MQTT command paths with dots (`alerts.acknowledge`), which is also how the audit trail
 * names a channel's own rows (`mqtt.alerts.acknowledge`).
 */

export type AlertTarget = { id: string } | { all: true };

/** Input of each command: its address (the camera, the zone) and its payload in one object, already typed. */
export interface CommandInputs {
  /** The house mode; `code` is the alarm panel code (`homeassistant.alarm_code`), checked on channels without login. */
  'alarm.set': { mode: HouseMode; code?: string };
  /** Exactly one of `id` and `all`. */
  'alerts.acknowledge': { id?: string; all?: true };
  'alerts.dismiss': { id?: string; all?: true };
  'cameras.detect.set': { camera_id: string; on: boolean };
  'zones.armed.set': { zone_id: string; on: boolean };
}

/** What each command's handler returns as its data. */
export interface CommandResults {
  'alarm.set': { mode: HouseMode; changed: boolean };
  /** The ids of the alerts changed. */
  'alerts.acknowledge': string[];
  'alerts.dismiss': string[];
  'cameras.detect.set': { enabled: boolean; previous: boolean };
  'zones.armed.set': { armed: boolean; changed: boolean };
}

export type CommandName = keyof CommandInputs;

/** A state to (re)publish: `alarm` → `<base>/alarm/state`, `detect` → `cameras/<id>/detect/state`, … */
export interface StateUpdate {
  kind: 'alarm' | 'detect' | 'zone_armed';
  id?: string;
  value: string;
}

/**
 * What the command handlers call, as functions so tests pass fakes. The functions marked "Audits" write the audit
 * row of their change themselves; the dispatcher audits the rest (see dispatcher.ts).
 */
export interface CommandServices {
  /** Ids of the alerts changed; throws AppError NOT_FOUND / INVALID_TRANSITION for a single id. Audits. */
  acknowledgeAlerts(target: AlertTarget, actor: string): Promise<string[]>;
  dismissAlerts(target: AlertTarget, actor: string): Promise<string[]>;
  houseMode(): Promise<HouseMode>;
  /** Audits; announces (`arming.changed`, which publishes the state) only when the mode changed. */
  setHouseMode(mode: HouseMode, actor: string): Promise<{ mode: HouseMode; changed: boolean }>;
  /** The zone's arming switch; undefined when there is no such zone. */
  zoneArmed(zoneId: string): Promise<boolean | undefined>;
  /**
   * The stored switch afterwards and whether it moved; throws AppError NOT_FOUND for an unknown zone. Audits;
   * announces only a change.
   */
  setZoneArmed(zoneId: string, armed: boolean, actor: string): Promise<{ armed: boolean; changed: boolean }>;
  /** Undefined when there is no such (live) camera. */
  detectionEnabled(cameraId: string): Promise<boolean | undefined>;
  /** False when there is no such (live) camera. Does not audit. */
  setDetectionEnabled(cameraId: string, enabled: boolean, actor: string): Promise<boolean>;
  writeAudit(entry: AuditInput): Promise<void>;
}

/** What a handler did. */
export interface Accepted<D> {
  data: D;
  /**
   * States for the sender to see that nothing announced: the unchanged value of a no-op, or a change no bus event
   * carries. A change announced on the bus is never repeated here (the bus publishes each resulting state once).
   */
  states: StateUpdate[];
  /** Details of the channel's own success row; absent when the service already audited the change. */
  audit?: Record<string, unknown>;
  /** What the command did, for its log line (else `audit`). */
  log?: Record<string, unknown>;
}

/** The row the audit trail files a command's rows under. */
export interface CommandResource {
  type: string;
  id: string | null;
}

/**
 * One command, defined once: its input schema, the resource its audit rows name, whether it needs the alarm code,
 * how MQTT answers it, its handler, and the state its entity has now (republished after a refusal).
 */
export interface CommandDefinition<N extends CommandName> {
  name: N;
  /** JSON Schema of the input, checked with ajv by the dispatcher before the handler runs. */
  schema: object;
  /** The audited resource; `input` is partial when the command was refused before its payload was read. */
  resource(input: Partial<CommandInputs[N]>): CommandResource;
  /** The alarm code the input carries, for commands a channel without login must check a code for. */
  code?(input: CommandInputs[N]): string | undefined;
  /** `response`: a JSON answer (MQTT `<base>/response/<path>`); `state`: answered by the entity's state. */
  answer: 'response' | 'state';
  /**
   * Where the resulting state is published from: `bus`, the service announces the change and every listener (the
   * MQTT bridge, the WebSocket) publishes it, once; `sender`, no bus event carries it, so only the channel that
   * publishes states itself (MQTT) may take the command.
   */
  published: 'bus' | 'sender';
  run(input: CommandInputs[N], services: CommandServices, actor: string): Promise<Accepted<CommandResults[N]>>;
  /** The entity's current state, for a refused command's sender (a UI that moved a switch snaps back). */
  current(input: Partial<CommandInputs[N]>, services: CommandServices): Promise<StateUpdate[]>;
}

export type CommandTable = { readonly [N in CommandName]: CommandDefinition<N> };

/** A command input refused; its message is the reason given back, logged and audited. */
export class CommandRefusal extends Error {
  /** `quiet`: a repeat of a refusal reported recently (a lockout): logged at debug level, not audited. */
  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
    this.name = 'CommandRefusal';
  }
}
