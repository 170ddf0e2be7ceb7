import { HOUSE_MODES } from '../domain/arming.js';
import { AppError } from '../lib/errors.js';
import type { CommandDefinition, CommandServices, CommandTable, StateUpdate } from './types.js';

/**
 * Every command HSI takes, once. Channels map their wire format into these inputs: MQTT a topic and payload
 * (`src/mqtt/commands.ts`), HTTP a route and body (`src/api/routes/alerts.ts`, `arming.ts`); the dispatcher checks
 * the input, the alarm code where a channel has no login, runs the handler, and audits and logs it.
 *
 * A change is announced on the bus by the service that makes it (`arming.changed`, `alert.updated`), which is where
 * Home Assistant's states come from (`camera.detection_changed` for the detection switch); a handler's `states`
 * carry only what the bus does not: an unchanged value.
 */

const onOff = (on: boolean) => (on ? 'ON' : 'OFF');
const ID = { type: 'string', minLength: 1, maxLength: 200 } as const;

const alarmSet: CommandDefinition<'alarm.set'> = {
  name: 'alarm.set',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['mode'],
    properties: { mode: { type: 'string', enum: HOUSE_MODES }, code: { type: 'string', maxLength: 256 } },
  },
  resource: () => ({ type: 'house', id: 'house' }),
  code: (input) => input.code,
  answer: 'state',
  published: 'bus',
  async run({ mode }, services, actor) {
    const change = await services.setHouseMode(mode, actor);
    // A change is announced on the bus, which publishes the state once; the same mode again is answered here.
    return {
      data: change,
      states: change.changed ? [] : [{ kind: 'alarm', value: change.mode }],
      log: { mode: change.mode, changed: change.changed },
    };
  },
  current: async (_input, services) => [{ kind: 'alarm', value: await services.houseMode() }],
};

function alertCommand<N extends 'alerts.acknowledge' | 'alerts.dismiss'>(name: N): CommandDefinition<N> {
  const action = name === 'alerts.acknowledge' ? 'acknowledge' : 'dismiss';
  return {
    name,
    schema: {
      type: 'object',
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['id'], properties: { id: ID } },
        { type: 'object', additionalProperties: false, required: ['all'], properties: { all: { const: true } } },
      ],
    },
    resource: (input) => ({ type: 'alert', id: input.id ?? null }),
    answer: 'response',
    published: 'bus',
    async run(input, services, actor) {
      const target = input.id !== undefined ? { id: input.id } : { all: true as const };
      const ids =
        action === 'acknowledge'
          ? await services.acknowledgeAlerts(target, actor)
          : await services.dismissAlerts(target, actor);
      // The service audits each alert it changed; `all` with nothing to change is audited by the channel.
      return { data: ids, states: [], log: { ids }, ...(ids.length === 0 ? { audit: { ids } } : {}) };
    },
    current: async () => [],
  };
}

async function detectState(services: CommandServices, cameraId: string | undefined): Promise<StateUpdate[]> {
  const on = cameraId === undefined ? undefined : await services.detectionEnabled(cameraId);
  return on === undefined || cameraId === undefined ? [] : [{ kind: 'detect', id: cameraId, value: onOff(on) }];
}

const detectSet: CommandDefinition<'cameras.detect.set'> = {
  name: 'cameras.detect.set',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['camera_id', 'on'],
    properties: { camera_id: ID, on: { type: 'boolean' } },
  },
  resource: (input) => ({ type: 'camera', id: input.camera_id ?? null }),
  answer: 'state',
  published: 'bus',
  async run({ camera_id: cameraId, on }, services, actor) {
    const previous = await services.detectionEnabled(cameraId);
    if (previous === undefined || !(await services.setDetectionEnabled(cameraId, on, actor))) {
      throw new AppError('NOT_FOUND', `no camera with id ${cameraId}`, { permanent: true });
    }
    // A change is announced on the bus, which publishes the state once; the same value again is answered here.
    return {
      data: { enabled: on, previous },
      states: previous === on ? [{ kind: 'detect', id: cameraId, value: onOff(on) }] : [],
      audit: { enabled: on, previous },
    };
  },
  current: (input, services) => detectState(services, input.camera_id),
};

const zoneArmedSet: CommandDefinition<'zones.armed.set'> = {
  name: 'zones.armed.set',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['zone_id', 'on'],
    properties: { zone_id: ID, on: { type: 'boolean' } },
  },
  resource: (input) => ({ type: 'zone', id: input.zone_id ?? null }),
  answer: 'state',
  published: 'bus',
  async run({ zone_id: zoneId, on }, services, actor) {
    const { armed, changed } = await services.setZoneArmed(zoneId, on, actor);
    return {
      data: { armed, changed },
      states: changed ? [] : [{ kind: 'zone_armed', id: zoneId, value: onOff(armed) }],
      log: { armed, changed },
    };
  },
  async current(input, services) {
    const zoneId = input.zone_id;
    const on = zoneId === undefined ? undefined : await services.zoneArmed(zoneId);
    return on === undefined || zoneId === undefined ? [] : [{ kind: 'zone_armed', id: zoneId, value: onOff(on) }];
  },
};

export const COMMANDS: CommandTable = {
  'alarm.set': alarmSet,
  'alerts.acknowledge': alertCommand('alerts.acknowledge'),
  'alerts.dismiss': alertCommand('alerts.dismiss'),
  'cameras.detect.set': detectSet,
  'zones.armed.set': zoneArmedSet,
};
