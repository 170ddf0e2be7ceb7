import { type CommandChannel, createCommandDispatcher } from '../commands/dispatcher.js';
import { COMMANDS } from '../commands/table.js';
import type { CommandServices } from '../commands/types.js';
import { type CommandInputs, type CommandName, CommandRefusal, type StateUpdate } from '../commands/types.js';
import type { HouseMode } from '../domain/arming.js';
import type { Clock } from '../lib/clock.js';
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
import type { CommandTopic } from './topics.js';

export type { CommandServices, StateUpdate } from '../commands/types.js';

/**
 * Commands from Home Assistant: the MQTT channel of the command table (`src/commands/`). It maps a topic and its
 * payload into a command's input (the alarm panel's two payload forms, the switches' ON/OFF, the alerts' JSON with
 * its `transaction`), and the outcome into what to publish back. It never publishes and never throws: it returns
 * the response (JSON commands) and the states to republish (plain `/set` commands), and the bridge publishes them.
 * Changes announced on the bus (house mode, zones, alerts) are published from there, once; the dispatcher's
 * outcome carries only unchanged states and refusals' current states (so HA's UI snaps back), and the detection
 * switch.
 *
 * Alarm panel (`alarm/set`): plain `ARM_AWAY` when no code is configured, else the `{"action", "code"}` JSON that
 * discovery's `command_template` renders (`code: REMOTE_CODE`). With `alarmCode` set every action, disarm included,
 * needs it (constant-time compare); refusals republish the unchanged state and never repeat the payload. After 3 wrong
 * codes in a row the panel refuses every code, unchecked, for 30 s, doubled after each further wrong code up to 15
 * minutes (MQTT messages carry no trustworthy sender, so the panel itself is throttled); the right code once the
 * lockout is over starts the count over. Codes refused during a lockout get one log line and audit row a minute.
 *
 * Audit trail: the channel's trail is `mqtt` (see the dispatcher): a refused command gets one `mqtt.<command>` row,
 * status `failure`, details `{topic, reason}` (a command topic HSI does not have: `mqtt.unknown`); the services audit
 * accepted changes, the channel the ones no service audits.
 */

export const MQTT_ACTOR = 'mqtt';

/** A command topic as `parseCommandTopic` reads it, or one that looks like a command where HSI has none: refused. */
export type MqttCommand = Exclude<CommandTopic, { kind: 'unknown' }> | { kind: 'unknown_command' };

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

const UNKNOWN_COMMAND =
  'unknown command topic; HSI takes alarm/set, alerts/acknowledge, alerts/dismiss, cameras/<id>/detect/set and ' +
  'zones/<id>/armed/set under its base topic';

/** The command's path under the base topic, ids left out: `alarm/set`, `alerts/acknowledge`, `cameras/detect/set`. */
export function commandName(command: MqttCommand): string {
  return command.kind === 'unknown_command' ? 'unknown' : tableName(command).replaceAll('.', '/');
}

/** The table's command a topic carries. */
function tableName(command: Exclude<MqttCommand, { kind: 'unknown_command' }>): CommandName {
  switch (command.kind) {
    case 'alarm_set':
      return 'alarm.set';
    case 'alerts':
      return `alerts.${command.action}`;
    case 'detect_set':
      return 'cameras.detect.set';
    case 'zone_armed_set':
      return 'zones.armed.set';
  }
}

/** What the topic says of the input before the payload is read: the camera or zone. */
function addressOf(command: MqttCommand): Partial<CommandInputs[CommandName]> {
  if (command.kind === 'detect_set') return { camera_id: command.cameraId };
  if (command.kind === 'zone_armed_set') return { zone_id: command.zoneId };
  return {};
}

/** What parsing found out besides the input: the `transaction` to echo, even when the rest was refused. */
interface Parsing {
  transaction?: Transaction;
}

/** The payload as the command's input; throws CommandRefusal naming what is wrong (never quoting a code). */
function parseInput(
  command: Exclude<MqttCommand, { kind: 'unknown_command' }>,
  text: string,
  parsing: Parsing,
): CommandInputs[CommandName] {
  const refuse = (reason: string): never => {
    throw new CommandRefusal(reason);
  };
  switch (command.kind) {
    case 'alarm_set': {
      const request = parseAlarmPayload(text);
      if (!request.ok) return refuse(request.reason);
      const mode = MODE_OF[request.action];
      return request.code === undefined ? { mode } : { mode, code: request.code };
    }
    case 'alerts': {
      const json = parseJson(text, ALERT_PAYLOAD_HINT);
      if (!json.ok) return refuse(json.reason);
      parsing.transaction = transactionOf(json.value);
      const parsed = parseAlertTarget(json.value);
      if (!parsed.ok) return refuse(parsed.reason);
      return parsed.target;
    }
    case 'detect_set': {
      const request = parseSwitch(text);
      return request.ok ? { camera_id: command.cameraId, on: request.on } : refuse(request.reason);
    }
    case 'zone_armed_set': {
      const request = parseSwitch(text);
      return request.ok ? { zone_id: command.zoneId, on: request.on } : refuse(request.reason);
    }
  }
}

export function createCommandHandler(deps: CommandHandlerDeps): CommandHandler {
  const { services, log, clock } = deps;
  const dispatcher = createCommandDispatcher({ services, log, clock });
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
      const reason = `too many wrong codes: the alarm panel refuses every code for another ${Math.ceil(lockedMs / 1000)} s`;
      // Reported (logged and audited) once a minute, with how many were refused since the last report.
      const { report, count } = lockoutReport.note(PANEL);
      if (!report) throw new CommandRefusal(reason, true);
      throw new CommandRefusal(`${reason} (${count} code(s) refused during the lockout since the last report)`);
    }
    if (code === undefined || code === '') {
      throw new CommandRefusal('a code is required: send {"action": "<ACTION>", "code": "<code>"}');
    }
    if (!codesMatch(code, alarmCode)) {
      const delayMs = codes.fail(PANEL);
      throw new CommandRefusal(
        delayMs === 0
          ? 'wrong code'
          : `wrong code; too many wrong codes: the alarm panel refuses every code for ${delayMs / 1000} s`,
      );
    }
    codes.succeed(PANEL);
  }

  /** The payload as text, refused (thrown) when too large, empty or not UTF-8, before anything parses it. */
  function payloadText(payload: Buffer): string {
    if (payload.length > deps.maxPayloadBytes) {
      throw new CommandRefusal(
        `payload is ${payload.length} bytes; the limit is ${deps.maxPayloadBytes} (mqtt.max_payload_bytes)`,
      );
    }
    if (payload.length === 0) throw new CommandRefusal('payload is empty');
    const text = decodeUtf8(payload);
    if (text === undefined) throw new CommandRefusal('payload is not valid UTF-8');
    return text;
  }

  return {
    get failedCodes() {
      return codes.failures;
    },
    async handle(command, payload, topic) {
      const label = commandName(command);
      const channel: CommandChannel = {
        actor: MQTT_ACTOR,
        trail: { name: 'mqtt', label, details: { topic } },
        checkCode,
      };
      if (command.kind === 'unknown_command') {
        await dispatcher.refuse('unknown', { type: 'topic', id: null }, channel, UNKNOWN_COMMAND);
        return { states: [] };
      }
      const name = tableName(command);
      const parsing: Parsing = {};
      const parse = () => parseInput(command, payloadText(payload), parsing);
      const outcome = await dispatcher.dispatch(name, parse, channel, addressOf(command));
      if (COMMANDS[name].answer !== 'response') return { states: outcome.states };
      const body: ResponseBody = outcome.ok
        ? { status: 'ok', data: outcome.data }
        : { status: 'error', error: outcome.message };
      const withTransaction = parsing.transaction === undefined ? body : { ...body, transaction: parsing.transaction };
      return { response: { path: label, body: withTransaction }, states: outcome.states };
    },
  };
}
