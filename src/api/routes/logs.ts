import type { FastifyInstance } from 'fastify';
import { LOG_LEVELS, type LogLevelName, searchLogs } from '../../storage/log.repository.js';
import type { ApiContext } from '../context.js';
import { errors } from '../schemas.js';

interface LogsQuery {
  limit: number;
  q?: string;
  level?: LogLevelName;
  component?: string;
  since?: string;
}

/** The application's warnings and errors (the `logs` table), newest first, searchable by text. */
export function logRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: LogsQuery }>(
    '/api/logs',
    {
      schema: {
        tags: ['system'],
        summary: 'Application warnings and errors, newest first; full-text search with q',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            q: { type: 'string', maxLength: 200 },
            level: { type: 'string', enum: [...LOG_LEVELS], description: 'this level and above' },
            component: { type: 'string', maxLength: 100 },
            since: { type: 'string', format: 'date-time' },
          },
        },
        response: { ...errors(400) },
      },
    },
    async (request) => {
      const { limit, q, level, component, since } = request.query;
      const entries = await searchLogs(ctx.deps.db, {
        limit,
        ...(q === undefined ? {} : { q }),
        ...(level === undefined ? {} : { level }),
        ...(component === undefined ? {} : { component }),
        ...(since === undefined ? {} : { since: new Date(since) }),
      });
      return {
        entries: entries.map((e) => ({
          id: e.id,
          timestamp: e.timestamp.toISOString(),
          level: e.level,
          component: e.component,
          message: e.message,
          camera_id: e.cameraId,
          event_id: e.eventId,
          extra: e.extra,
        })),
      };
    },
  );
}
