import type { FastifyInstance } from 'fastify';
import type { RiskLevel } from '../../domain/risk.js';
import { getEvent } from '../../storage/event.repository.js';
import {
  FEEDBACK_TYPES,
  type FeedbackType,
  feedbackSummary,
  recordFeedback,
} from '../../storage/feedback.repository.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { feedbackJson, feedbackSummaryJson } from '../present.js';
import { dateTime, errors, feedbackSchema, idParams, listOf, riskLevel } from '../schemas.js';

interface FeedbackBody {
  feedback_type: FeedbackType;
  notes?: string | null;
  expected_severity?: RiskLevel | null;
}

const feedbackBodySchema = {
  type: 'object',
  required: ['feedback_type'],
  additionalProperties: false,
  properties: {
    feedback_type: { type: 'string', enum: FEEDBACK_TYPES },
    notes: { type: ['string', 'null'], maxLength: 10_000 },
    expected_severity: {
      type: ['string', 'null'],
      enum: [...riskLevel.enum, null],
      description: 'The level you expected (severity_wrong, missed_threat)',
    },
  },
} as const;

const summaryItemSchema = {
  type: 'object',
  properties: {
    level: riskLevel,
    events: { type: 'integer' },
    share: { type: 'number' },
    with_feedback: { type: 'integer' },
    false_positives: { type: 'integer' },
    false_positive_share: { type: 'number' },
  },
} as const;

export function feedbackRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  app.post<{ Params: { id: number }; Body: FeedbackBody }>(
    '/api/events/:id/feedback',
    {
      schema: {
        tags: ['events'],
        summary: "Record (or replace) the user's verdict on an event's assessment",
        params: idParams,
        body: feedbackBodySchema,
        response: { 200: feedbackSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      if ((await getEvent(db, id)) === undefined) throw notFound(`no event with id ${id}`);
      const feedback = await db.transaction().execute(async (tx) => {
        const stored = await recordFeedback(tx, {
          eventId: id,
          feedbackType: body.feedback_type,
          notes: body.notes ?? null,
          expectedSeverity: body.expected_severity ?? null,
        });
        await ctx.audit(
          request,
          { action: 'event.feedback', resourceType: 'event', resourceId: String(id), details: { ...body } },
          tx,
        );
        return stored;
      });
      return feedbackJson(feedback);
    },
  );

  app.get<{ Querystring: { since?: string } }>(
    '/api/feedback/summary',
    {
      schema: {
        tags: ['events'],
        summary: 'Per risk level: events, share of all events, feedback and false positives (calibration)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { since: { ...dateTime, description: 'Only events that started at or after this time' } },
        },
        response: { 200: listOf('levels', summaryItemSchema), ...errors(400) },
      },
    },
    async (request) => {
      const since = request.query.since === undefined ? undefined : new Date(request.query.since);
      const levels = await feedbackSummary(db, since === undefined ? {} : { since });
      return { levels: levels.map(feedbackSummaryJson) };
    },
  );
}
