import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createCommandDispatcher } from '../../commands/dispatcher.js';
import { createCommandServices } from '../../commands/services.js';
import type { CommandInputs } from '../../commands/types.js';
import { ALERT_STATUSES, type AlertStatus } from '../../domain/alert-lifecycle.js';
import { listAlertsWithCamera } from '../../storage/queries/alerts-with-camera.js';
import type { ApiContext } from '../context.js';
import { alertJson } from '../present.js';
import { alertSchema, errors, listOf, textIdParams } from '../schemas.js';

type Action = 'acknowledge' | 'dismiss';
const ACTIONS: readonly Action[] = ['acknowledge', 'dismiss'];
const ACTIVE: readonly AlertStatus[] = ['pending', 'delivered'];

interface AlertQuery {
  status?: AlertStatus | 'active';
  limit: number;
}

const alertQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: {
      type: 'string',
      enum: [...ALERT_STATUSES, 'active'],
      description: '`active` = pending or delivered; all statuses when absent',
    },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
} as const;

const allBodySchema = {
  type: 'object',
  required: ['all'],
  additionalProperties: false,
  properties: { all: { type: 'boolean', const: true, description: 'Every pending or delivered alert' } },
} as const;

const bulkSchema = {
  type: 'object',
  properties: { count: { type: 'integer' }, alerts: { type: 'array', items: alertSchema } },
} as const;

export function alertRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db, log, clock } = ctx.deps;
  const commands = createCommandDispatcher({ services: createCommandServices(ctx.deps), log, clock });

  /** The changed alerts as JSON, each with its camera. */
  const present = async (ids: readonly string[]) => {
    const rows = await listAlertsWithCamera(db, { ids: [...ids], limit: Math.max(1, ids.length) });
    return rows.map((r) => alertJson(r.alert, r.cameraId));
  };
  /** The table's `alerts.acknowledge|dismiss`, as the request's actor: the ids changed (a refusal is thrown). */
  const apply = (action: Action, target: CommandInputs['alerts.acknowledge'], request: FastifyRequest) =>
    commands.run(`alerts.${action}`, target, { actor: ctx.actor(request) });

  app.get<{ Querystring: AlertQuery }>(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts newest first, optionally by status',
        querystring: alertQuerySchema,
        response: { 200: listOf('alerts', alertSchema), ...errors(400) },
      },
    },
    async (request) => {
      const { status, limit } = request.query;
      const statuses = status === undefined ? undefined : status === 'active' ? ACTIVE : [status];
      const rows = await listAlertsWithCamera(db, { statuses, limit });
      return { alerts: rows.map((r) => alertJson(r.alert, r.cameraId)) };
    },
  );

  for (const action of ACTIONS) {
    app.post<{ Params: { id: string } }>(
      `/api/alerts/:id/${action}`,
      {
        schema: {
          tags: ['alerts'],
          summary: `${action === 'acknowledge' ? 'Acknowledge' : 'Dismiss'} one alert (409 when it is final already)`,
          params: textIdParams,
          response: { 200: alertSchema, ...errors(404, 409) },
        },
      },
      async (request) => {
        const changed = await apply(action, { id: request.params.id }, request);
        const [json] = await present(changed);
        return json;
      },
    );

    app.post<{ Body: { all: true } }>(
      `/api/alerts/${action}`,
      {
        schema: {
          tags: ['alerts'],
          summary: `${action === 'acknowledge' ? 'Acknowledge' : 'Dismiss'} every active alert`,
          body: allBodySchema,
          response: { 200: bulkSchema, ...errors(400) },
        },
      },
      async (request) => {
        const changed = await apply(action, { all: true }, request);
        return { count: changed.length, alerts: await present(changed) };
      },
    );
  }
}
