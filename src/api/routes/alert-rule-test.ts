import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type EventFacts, matchRule, type PeopleSeen } from '../../domain/alert-rules.js';
import type { HouseMode } from '../../domain/arming.js';
import { auditedPeopleSeen } from '../../domain/facts.js';
import { toZoneHit } from '../../domain/zones.js';
import type { StoredAlertRule } from '../../storage/alert-rule.repository.js';
import { auditFactsOfEvents } from '../../storage/audit.repository.js';
import type { DbOrTx } from '../../storage/database.js';
import { listEvents, type SecurityEvent } from '../../storage/event.repository.js';
import { detectionFactsOfEvents, type EventDetectionFacts } from '../../storage/queries/detections.js';
import { listZones, type StoredZone } from '../../storage/zone.repository.js';
import type { ApiContext } from '../context.js';
import { iso } from '../present.js';
import { dateTime, errors, houseModeSchema, riskLevel, textIdParams } from '../schemas.js';

/** Loads the rule named by the request's `:id` (404 when none), in `db` when given. */
export type RuleFinder = (request: FastifyRequest<{ Params: { id: string } }>, db?: DbOrTx) => Promise<StoredAlertRule>;

interface TestBody {
  limit?: number;
  house_mode?: HouseMode;
}

const testBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 20, description: 'How many of the latest events' },
    house_mode: { ...houseModeSchema, description: 'Evaluate as if the house were in this mode (default: current)' },
  },
} as const;

const resultSchema = {
  type: 'object',
  properties: {
    event_id: { type: 'integer' },
    camera_id: { type: 'string' },
    started_at: dateTime,
    risk_score: { type: 'integer' },
    risk_level: riskLevel,
    summary: { type: 'string' },
    matched: { type: 'boolean' },
    failed_conditions: {
      type: 'array',
      items: { type: 'object', properties: { condition: { type: 'string' }, reason: { type: 'string' } } },
    },
  },
} as const;

const testResponseSchema = {
  type: 'object',
  properties: {
    rule_id: { type: 'string' },
    house_mode: houseModeSchema,
    evaluated: { type: 'integer' },
    matched: { type: 'integer' },
    results: { type: 'array', items: resultSchema },
  },
} as const;

/**
 * The facts the alert service would have seen for a past event, with today's zones and the given house mode, and
 * the people its analysis saw (kept in its audit row; absent: nobody recognised, as with identity off).
 */
export function pastEventFacts(
  event: SecurityEvent,
  detections: readonly EventDetectionFacts[],
  zones: readonly StoredZone[],
  houseMode: HouseMode,
  timezone: string,
  people?: PeopleSeen,
): EventFacts {
  const confidenceByType: Record<string, number> = Object.fromEntries(event.objectTypes.map((t) => [t, 0]));
  const hitIds = new Set<string>();
  for (const d of detections) {
    confidenceByType[d.objectType] = Math.max(confidenceByType[d.objectType] ?? 0, d.confidence);
    for (const id of d.zoneIds) hitIds.add(id);
  }
  return {
    eventId: event.id,
    cameraId: event.cameraId,
    riskScore: event.riskScore,
    riskLevel: event.riskLevel,
    confidenceByType,
    zones: zones
      .filter((z) => hitIds.has(z.id))
      .sort((a, b) => b.priority - a.priority)
      .map((z) => toZoneHit(z, z.armed)),
    houseMode,
    timezone,
    ...(people === undefined ? {} : { people }),
  };
}

/** `POST /api/alert-rules/:id/test`: which of the latest events the rule would have matched, and why not. */
export function ruleTestRoute(app: FastifyInstance, ctx: ApiContext, find: RuleFinder): void {
  const { db, arming } = ctx.deps;
  app.post<{ Params: { id: string }; Body: TestBody | null }>(
    '/api/alert-rules/:id/test',
    {
      schema: {
        tags: ['alert rules'],
        summary: 'Evaluate the rule against the latest events (at their start time; cooldowns not applied)',
        params: textIdParams,
        body: testBodySchema,
        response: { 200: testResponseSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const rule = await find(request);
      const limit = request.body?.limit ?? 20;
      const houseMode = request.body?.house_mode ?? (await arming.houseMode());
      const { events } = await listEvents(db, { limit });
      const ids = events.map((e) => e.id);
      const [detections, zones, audited] = await Promise.all([
        detectionFactsOfEvents(db, ids),
        listZones(db),
        auditFactsOfEvents(db, ids),
      ]);
      const results = events.map((event) => {
        const facts = pastEventFacts(
          event,
          detections.filter((d) => d.eventId === event.id),
          zones.filter((z) => z.cameraId === event.cameraId),
          houseMode,
          ctx.timeZone,
          auditedPeopleSeen(audited.get(event.id)),
        );
        const match = matchRule(rule, facts, event.startedAt);
        return {
          event_id: event.id,
          camera_id: event.cameraId,
          started_at: iso(event.startedAt),
          risk_score: event.riskScore,
          risk_level: event.riskLevel,
          summary: event.summary,
          matched: match.matched,
          failed_conditions: match.failedConditions,
        };
      });
      return {
        rule_id: rule.id,
        house_mode: houseMode,
        evaluated: results.length,
        matched: results.filter((r) => r.matched).length,
        results,
      };
    },
  );
}
