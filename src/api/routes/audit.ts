import type { FastifyInstance } from 'fastify';
import { listAudit } from '../../storage/audit.repository.js';
import type { ApiContext } from '../context.js';
import { auditJson } from '../present.js';
import { auditSchema, errors, listOf } from '../schemas.js';

interface AuditQuery {
  limit: number;
  action?: string;
  resource_type?: string;
}

export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/api/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Security audit trail, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            action: { type: 'string', description: 'e.g. house_mode.set, zone.arm, alert.acknowledge, event.delete' },
            resource_type: { type: 'string', description: 'e.g. house, zone, alert, event, alert_rule' },
          },
        },
        response: { 200: listOf('entries', auditSchema), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, action, resource_type: resourceType } = request.query;
      const entries = await listAudit(ctx.deps.db, { limit, action, resourceType });
      return { entries: entries.map(auditJson) };
    },
  );
}
