import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { type CommandChannel, type CommandDispatcher, createCommandDispatcher } from '../../commands/dispatcher.js';
import { parseJson } from '../../commands/json.js';
import { createCommandServices } from '../../commands/services.js';
import { COMMANDS } from '../../commands/table.js';
import type { CommandInputs, CommandName } from '../../commands/types.js';
import type { ApiContext } from '../context.js';
import type { ApiMetrics } from '../metrics.js';
import { alertRecordJson, eventRecordJson } from '../present.js';
import { errors } from '../schemas.js';

/** What `/ws/events` sends, one JSON text frame per bus event (to every client) or command response (to its sender). */
export type StreamMessage =
  | StreamResponse
  | { type: 'event'; action: EventAction; data: ReturnType<typeof eventRecordJson> }
  | {
      type: 'alert';
      action: 'created' | 'acknowledge' | 'dismiss' | 'deliver' | 'escalate';
      data: ReturnType<typeof alertRecordJson>;
    };

/**
 * A command sent over `/ws/events`, one JSON text frame: a command of the table (`src/commands/table.ts`) with its
 * input, e.g. `{"command": "alerts.acknowledge", "input": {"all": true}, "transaction": 7}`, whose state the bus
 * announces (Home Assistant hears of it as of any other change). The socket's upgrade passed the API's
 * login (key or ingress) and host check, so, as over HTTP, no alarm code is asked.
 */
export interface StreamCommand {
  command: CommandName;
  input: Record<string, unknown>;
  /** Echoed in the response, to match it. */
  transaction?: string | number;
}

/** The answer to a StreamCommand, to its sender only: the command's data, or why it was refused. */
export interface StreamResponse {
  type: 'response';
  command: string;
  status: 'ok' | 'error';
  data?: unknown;
  error?: string;
  transaction?: string | number;
}

/** Frames larger than this are refused unread. */
const MAX_COMMAND_BYTES = 65_536;
const COMMAND_HINT = '{"command": "<name>", "input": {…}, "transaction": <optional>}';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateCommand = ajv.compile<StreamCommand>({
  type: 'object',
  additionalProperties: false,
  required: ['command', 'input'],
  properties: {
    // Only commands whose resulting state the bus announces: a change made here must reach Home Assistant too.
    command: { type: 'string', enum: Object.values(COMMANDS).flatMap((c) => (c.published === 'bus' ? [c.name] : [])) },
    input: { type: 'object' },
    transaction: { type: ['string', 'number'], maxLength: 256 },
  },
});

const describeErrors = (errors: readonly ErrorObject[] | null | undefined) =>
  (errors ?? [])
    .map((e) => `${e.instancePath === '' ? 'message' : e.instancePath.slice(1)} ${e.message ?? 'is invalid'}`)
    .join('; ');

/**
 * Answers one frame of a socket: runs the command through the table's dispatcher as the socket's user. The trail
 * `ws` audits refusals and the changes no service audits (`ws.<command>`), as MQTT's does; the services audit the rest.
 */
async function answerFrame(
  commands: CommandDispatcher,
  request: FastifyRequest,
  actor: string,
  data: RawData,
  isBinary: boolean,
): Promise<StreamResponse> {
  const agent = request.headers['user-agent'];
  const channel = (label: string): CommandChannel => ({
    actor,
    trail: {
      name: 'ws',
      label,
      details: {},
      source: { ipAddress: request.ip, userAgent: typeof agent === 'string' ? agent.slice(0, 500) : null },
    },
  });
  const refuse = async (reason: string): Promise<StreamResponse> => {
    await commands.refuse('unknown', { type: 'socket', id: null }, channel('unknown'), reason);
    return { type: 'response', command: 'unknown', status: 'error', error: reason };
  };
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (isBinary) return refuse(`send a JSON text frame: ${COMMAND_HINT}`);
  if (bytes.length > MAX_COMMAND_BYTES)
    return refuse(`frame is ${bytes.length} bytes; the limit is ${MAX_COMMAND_BYTES}`);
  const json = parseJson(bytes.toString('utf8'), COMMAND_HINT);
  if (!json.ok) return refuse(json.reason);
  if (!validateCommand(json.value)) return refuse(describeErrors(validateCommand.errors));
  const { command, input, transaction } = json.value;
  const echo = transaction === undefined ? {} : { transaction };
  // The dispatcher checks the input against the command's schema before anything runs.
  const outcome = await commands.dispatch(command, input as CommandInputs[typeof command], channel(command));
  return outcome.ok
    ? { type: 'response', command, status: 'ok', data: outcome.data, ...echo }
    : { type: 'response', command, status: 'error', error: outcome.message, ...echo };
}

/**
 * A visit's lifecycle, as on MQTT: `new` once when its event is created, `update` when more detections joined and it
 * was re-analysed, `end` once when its batch closed (the final analysis). An event created at batch close (no fast
 * path) sends `new` then `end`.
 */
export type EventAction = 'new' | 'update' | 'end';

/**
 * `GET /ws/events`: new events, new alerts and alert changes as they happen, to every connected client, and the
 * command table for each client's own commands (StreamCommand → StreamResponse); and `GET /metrics`, the Prometheus
 * exposition.
 */
export function streamRoutes(app: FastifyInstance, ctx: ApiContext, metrics: ApiMetrics): void {
  const { bus, log, clock } = ctx.deps;
  const commands = createCommandDispatcher({ services: createCommandServices(ctx.deps), log, clock });
  const clients = new Set<WebSocket>();
  const broadcast = (message: StreamMessage) => {
    const text = JSON.stringify(message);
    for (const socket of clients) if (socket.readyState === socket.OPEN) socket.send(text);
  };
  const off = [
    bus.on('event.created', ({ event }) => {
      broadcast({ type: 'event', action: 'new', data: eventRecordJson(event) });
      if (event.closedAt !== null) broadcast({ type: 'event', action: 'end', data: eventRecordJson(event) });
    }),
    bus.on('event.updated', ({ event }) =>
      broadcast({ type: 'event', action: event.closedAt === null ? 'update' : 'end', data: eventRecordJson(event) }),
    ),
    bus.on('alert.created', ({ alert }) =>
      broadcast({ type: 'alert', action: 'created', data: alertRecordJson(alert) }),
    ),
    bus.on('alert.updated', ({ alert, action }) => broadcast({ type: 'alert', action, data: alertRecordJson(alert) })),
  ];
  app.addHook('onClose', async () => {
    for (const unsubscribe of off.splice(0)) unsubscribe();
    for (const socket of clients) socket.close(1001, 'HSI is stopping');
    clients.clear();
  });

  app.get(
    '/ws/events',
    {
      websocket: true,
      schema: {
        tags: ['stream'],
        summary:
          'WebSocket: {type: "event"|"alert", action, data} for every event lifecycle step (new, update, end), new ' +
          'alert and alert change; a client may send {command, input, transaction} (a command of the table: ' +
          'alarm.set, alerts.acknowledge, alerts.dismiss, cameras.detect.set, zones.armed.set) and gets ' +
          '{type: "response", command, status, data|error, transaction} back',
      },
    },
    (socket, request) => {
      clients.add(socket);
      const actor = ctx.actor(request);
      socket.on('message', (data, isBinary) => {
        answerFrame(commands, request, actor, data, isBinary)
          .then((response) => {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(response));
          })
          .catch((error: unknown) => log.warn({ err: error }, 'WebSocket command failed'));
      });
      socket.on('close', () => clients.delete(socket));
      socket.on('error', (error) => log.debug({ err: error }, 'WebSocket client error'));
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        response: {
          200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...errors(),
        },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.render()),
  );
}
