import type { HouseMode } from '../domain/arming.js';
import type { Clock } from '../lib/clock.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { AuthThrottle, RateLimitedReport } from './auth-throttle.js';
import {
  ALERT_PAYLOAD_HINT,
  type AlarmAction,
  codesMatch,
  decodeUtf8,
  parseAlarmPayload,
  parseAlertTarget,
  parseJson,
  parseSwitch,
  type Transaction,
  transactionOf,
} from './command-payloads.js';
import type { CommandServices } from './command-services.js';

export type { CommandServices } from './command-services.js';

/**
 * Commands from Home Assistant, as a table from parsed command to what to publish back. The handler never
 * publishes and never throws: it returns the response (JSON commands) and the states to republish (plain `/set`
 * commands), and the bridge publishes them.
 *
 * Alarm panel (`alarm/set`): plain `ARM_AWAY` when no code is configured, else the `{"action", "code"}` JSON that
 * discovery's `command_template` renders (`code: REMOTE_CODE`). With `alarmCode` set every action, disarm included,
 * needs it (constant-time compare); refusals republish the unchanged state and never repeat the payload. After 3 wrong
 * codes in a row the panel refuses every code, unchecked, for 30 s, doubled after each further wrong code up to 15
 * minutes (MQTT messages carry no trustworthy sender, so the panel itself is throttled); the right code once the
 * lockout is over starts the count over. Codes refused during a lockout get one log line and audit row a minute.
 *
 * Audit trail, one place per fact:
 * - a refused command (bad payload, unknown id, wrong code, service refusal, unexpected error, a command topic HSI
 *   does not have: `mqtt.unknown`) gets one `mqtt.<command>` row, status `failure`, details `{topic, reason}`;
 * - an accepted command's change is audited once, by whoever makes it: ArmingService writes `house_mode.set` and
 *   `zone.arm|zone.disarm`, AlertService one `alert.acknowledge|alert.dismiss` per alert (actor `mqtt`); the
 *   handler writes the `success` row only where no service does: the camera detection switch
 *   (`mqtt.cameras.detect.set`) and an acknowledge/dismiss of `all` that found no active alert.
 */

export const MQTT_ACTOR = 'mqtt';

export type MqttCommand =
  | { kind: 'alarm_set' }
  | { kind: 'alerts'; action: 'acknowledge' | 'dismiss' }
  | { kind: 'detect_set'; cameraId: string }
  | { kind: 'zone_armed_set'; zoneId: string }
  | { kind: 'unknown_command' }; // looks like a command, but HSI has none there (`alerts/ack`): refused

export interface ResponseBody {
  status: 'ok' | 'error';
  data?: unknown;
  error?: string;
  transaction?: Transaction;
}

/** Published on `<base>/response/<path>`. */
export interface CommandResponse {
  path: string;
  body: ResponseBody;
}

/** A state to (re)publish: `alarm` → `<base>/alarm/state`, `detect` → `cameras/<id>/detect/state`, … */
export interface StateUpdate {
  kind: 'alarm' | 'detect' | 'zone_armed';
  id?: string;
  value: string;
}

export interface CommandOutcome {
  response?: CommandResponse;
  states: StateUpdate[];
}

export interface CommandHandlerDeps {
  services: CommandServices;
  log: Logger;
  /** Larger payloads are refused before they are decoded or parsed (`mqtt.max_payload_bytes`). */
  maxPayloadBytes: number;
  /** `homeassistant.alarm_code`: '' or undefined = the alarm panel needs no code. */
  alarmCode?: string;
  clock: Clock;
}

export interface CommandHandler {
  handle(command: MqttCommand, payload: Buffer, topic: string): Promise<CommandOutcome>;
  /** Alarm panel codes refused since start: wrong, or sent during a lockout (the health sensor's failed logins). */
  readonly failedCodes: number;
}

/** Wrong alarm codes: 3 free, then 30 s doubled per wrong code up to 15 minutes; forgotten after a quiet day. */
const CODE_THROTTLE = {
  freeFailures: 3,
  baseDelayMs: 30_000,
  maxDelayMs: 900_000,
  forgetAfterMs: 86_400_000,
  maxKeys: 1,
};
const PANEL = 'alarm_panel';

const MODE_OF: Record<AlarmAction, HouseMode> = {
  DISARM: 'disarmed',
  ARM_HOME: 'armed_home',
  ARM_AWAY: 'armed_away',
  ARM_NIGHT: 'armed_night',
};

const EXPECTED_REFUSALS = new Set(['NOT_FOUND', 'INVALID_TRANSITION', 'INVALID_INPUT']);
const INTERNAL_ERROR = 'internal error while handling the command; see the HSI log';
const UNKNOWN_COMMAND =
  'unknown command topic; HSI takes alarm/set, alerts/acknowledge, alerts/dismiss, cameras/<id>/detect/set and ' +
  'zones/<id>/armed/set under its base topic';

/** The command's path under the base topic, ids left out: `alarm/set`, `alerts/acknowledge`, `cameras/detect/set`. */
export function commandName(command: MqttCommand): string {
  switch (command.kind) {
    case 'alarm_set':
      return 'alarm/set';
    case 'alerts':
      return `alerts/${command.action}`;
    case 'detect_set':
      return 'cameras/detect/set';
    case 'zone_armed_set':
      return 'zones/armed/set';
    case 'unknown_command':
      return 'unknown';
  }
}

function resourceOf(command: MqttCommand): { resourceType: string; resourceId: string | null } {
  switch (command.kind) {
    case 'alarm_set':
      return { resourceType: 'house', resourceId: 'house' };
    case 'alerts':
      return { resourceType: 'alert', resourceId: null };
    case 'detect_set':
      return { resourceType: 'camera', resourceId: command.cameraId };
    case 'zone_armed_set':
      return { resourceType: 'zone', resourceId: command.zoneId };
    case 'unknown_command':
      return { resourceType: 'topic', resourceId: null };
  }
}

const onOff = (on: boolean) => (on ? 'ON' : 'OFF');

/** Input the handler refuses; its message is the reason given back, logged and audited. */
class Refusal extends Error {}

/** A code sent while the alarm panel is locked out: logged and audited at most once a minute. */
class LockedOut extends Refusal {}

interface Context {
  topic: string;
  transaction?: Transaction;
  resourceId: string | null;
}

interface Accepted {
  data?: unknown;
  states: StateUpdate[];
  /** Details of the handler's own success row; absent when the service already audited the change. */
  audit?: Record<string, unknown>;
  /** What the command did, for its log line. */
  log?: Record<string, unknown>;
}

export function createCommandHandler(deps: CommandHandlerDeps): CommandHandler {
  const { services, log, clock } = deps;
  const alarmCode = deps.alarmCode ?? '';
  const now = () => clock.now();
  const codes = new AuthThrottle(CODE_THROTTLE, now);
  const lockoutReport = new RateLimitedReport(60_000, now);

  /** Refuses (throws) a missing or wrong code, or any code while the panel is locked out. */
  function checkCode(code: string | undefined): void {
    if (alarmCode === '') return;
    const lockedMs = codes.lockedForMs(PANEL);
    if (lockedMs > 0) {
      codes.refused();
      throw new LockedOut(
        `too many wrong codes: the alarm panel refuses every code for another ${Math.ceil(lockedMs / 1000)} s`,
      );
    }
    if (code === undefined || code === '') {
      throw new Refusal('a code is required: send {"action": "<ACTION>", "code": "<code>"}');
    }
    if (!codesMatch(code, alarmCode)) {
      const delayMs = codes.fail(PANEL);
      throw new Refusal(
        delayMs === 0
          ? 'wrong code'
          : `wrong code; too many wrong codes: the alarm panel refuses every code for ${delayMs / 1000} s`,
      );
    }
    codes.succeed(PANEL);
  }

  async function setAlarm(text: string): Promise<Accepted> {
    const request = parseAlarmPayload(text);
    if (!request.ok) throw new Refusal(request.reason);
    checkCode(request.code);
    const { mode, changed } = await services.setHouseMode(MODE_OF[request.action], MQTT_ACTOR);
    // A change is announced on the bus, which publishes the state once; the same mode again is answered here.
    return { states: changed ? [] : [{ kind: 'alarm', value: mode }], log: { mode, changed } };
  }

  async function changeAlerts(action: 'acknowledge' | 'dismiss', text: string, ctx: Context): Promise<Accepted> {
    const json = parseJson(text, ALERT_PAYLOAD_HINT);
    if (!json.ok) throw new Refusal(json.reason);
    ctx.transaction = transactionOf(json.value);
    const parsed = parseAlertTarget(json.value);
    if (!parsed.ok) throw new Refusal(parsed.reason);
    if ('id' in parsed.target) ctx.resourceId = parsed.target.id;
    const ids =
      action === 'acknowledge'
        ? await services.acknowledgeAlerts(parsed.target, MQTT_ACTOR)
        : await services.dismissAlerts(parsed.target, MQTT_ACTOR);
    return { data: ids, states: [], log: { ids }, ...(ids.length === 0 ? { audit: { ids } } : {}) };
  }

  async function setDetection(cameraId: string, text: string): Promise<Accepted> {
    const request = parseSwitch(text);
    if (!request.ok) throw new Refusal(request.reason);
    const previous = await services.detectionEnabled(cameraId);
    if (previous === undefined || !(await services.setDetectionEnabled(cameraId, request.on))) {
      throw new Refusal(`no camera with id ${cameraId}`);
    }
    return {
      states: [{ kind: 'detect', id: cameraId, value: onOff(request.on) }],
      audit: { enabled: request.on, previous },
    };
  }

  async function setZone(zoneId: string, text: string): Promise<Accepted> {
    const request = parseSwitch(text);
    if (!request.ok) throw new Refusal(request.reason);
    const { armed, changed } = await services.setZoneArmed(zoneId, request.on, MQTT_ACTOR);
    return {
      states: changed ? [] : [{ kind: 'zone_armed', id: zoneId, value: onOff(armed) }],
      log: { armed, changed },
    };
  }

  async function run(command: MqttCommand, payload: Buffer, ctx: Context): Promise<Accepted> {
    if (command.kind === 'unknown_command') throw new Refusal(UNKNOWN_COMMAND);
    if (payload.length > deps.maxPayloadBytes) {
      throw new Refusal(
        `payload is ${payload.length} bytes; the limit is ${deps.maxPayloadBytes} (mqtt.max_payload_bytes)`,
      );
    }
    if (payload.length === 0) throw new Refusal('payload is empty');
    const text = decodeUtf8(payload);
    if (text === undefined) throw new Refusal('payload is not valid UTF-8');
    switch (command.kind) {
      case 'alarm_set':
        return setAlarm(text);
      case 'alerts':
        return changeAlerts(command.action, text, ctx);
      case 'detect_set':
        return setDetection(command.cameraId, text);
      case 'zone_armed_set':
        return setZone(command.zoneId, text);
    }
  }

  /** Writes one audit row; a failure to write is returned (for the command's one log line), never thrown. */
  async function audit(command: MqttCommand, ctx: Context, status: 'success' | 'failure', details: object) {
    try {
      await services.writeAudit({
        action: `mqtt.${commandName(command).replaceAll('/', '.')}`,
        resourceType: resourceOf(command).resourceType,
        resourceId: ctx.resourceId,
        actor: MQTT_ACTOR,
        details: { topic: ctx.topic, ...details },
        status,
        timestamp: new Date(clock.now()),
      });
      return undefined;
    } catch (error) {
      return errorMessage(error);
    }
  }

  /** The current state of a plain command's entity, republished after a refusal so HA's UI snaps back. */
  async function currentStates(command: MqttCommand): Promise<StateUpdate[]> {
    try {
      switch (command.kind) {
        case 'alarm_set':
          return [{ kind: 'alarm', value: await services.houseMode() }];
        case 'alerts':
        case 'unknown_command':
          return [];
        case 'detect_set': {
          const on = await services.detectionEnabled(command.cameraId);
          return on === undefined ? [] : [{ kind: 'detect', id: command.cameraId, value: onOff(on) }];
        }
        case 'zone_armed_set': {
          const on = await services.zoneArmed(command.zoneId);
          return on === undefined ? [] : [{ kind: 'zone_armed', id: command.zoneId, value: onOff(on) }];
        }
      }
    } catch {
      return [];
    }
  }

  function respond(command: MqttCommand, ctx: Context, body: ResponseBody): CommandResponse | undefined {
    if (command.kind !== 'alerts') return undefined;
    const withTransaction = ctx.transaction === undefined ? body : { ...body, transaction: ctx.transaction };
    return { path: commandName(command), body: withTransaction };
  }

  async function accepted(command: MqttCommand, ctx: Context, result: Accepted): Promise<CommandOutcome> {
    const auditError = result.audit === undefined ? undefined : await audit(command, ctx, 'success', result.audit);
    const fields = {
      topic: ctx.topic,
      command: commandName(command),
      actor: MQTT_ACTOR,
      ...(ctx.resourceId === null ? {} : { resource_id: ctx.resourceId }),
      ...(result.log ?? result.audit ?? {}),
    };
    if (auditError === undefined) log.info(fields, 'mqtt command applied');
    else log.error({ ...fields, audit_error: auditError }, 'mqtt command applied but its audit row failed');
    const response = respond(command, ctx, { status: 'ok', data: result.data });
    return response === undefined ? { states: result.states } : { response, states: result.states };
  }

  async function refused(command: MqttCommand, ctx: Context, error: unknown): Promise<CommandOutcome> {
    const expected = error instanceof Refusal || (error instanceof AppError && EXPECTED_REFUSALS.has(error.code));
    let reason = expected ? errorMessage(error) : `internal error: ${errorMessage(error)}`;
    if (error instanceof LockedOut) {
      const { report, count } = lockoutReport.note(PANEL);
      if (!report) {
        log.debug({ topic: ctx.topic, reason }, 'mqtt command refused');
        return { states: await currentStates(command) };
      }
      reason = `${reason} (${count} code(s) refused during the lockout since the last report)`;
    }
    const auditError = await audit(command, ctx, 'failure', { reason });
    const fields = { topic: ctx.topic, ...(auditError === undefined ? {} : { audit_error: auditError }) };
    if (expected) log.warn({ ...fields, reason }, 'mqtt command refused');
    else log.error({ ...fields, err: error }, 'mqtt command failed');
    const shown = expected || error instanceof AppError ? errorMessage(error) : INTERNAL_ERROR;
    const response = respond(command, ctx, { status: 'error', error: shown });
    const states = await currentStates(command);
    return response === undefined ? { states } : { response, states };
  }

  return {
    get failedCodes() {
      return codes.failures;
    },
    async handle(command, payload, topic) {
      const ctx: Context = { topic, resourceId: resourceOf(command).resourceId };
      try {
        return await accepted(command, ctx, await run(command, payload, ctx));
      } catch (error) {
        try {
          return await refused(command, ctx, error);
        } catch {
          return { states: [] };
        }
      }
    },
  };
}
