import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RiskLevel } from '../../domain/risk.js';
import {
  getEvent,
  listEvents,
  markReviewed,
  type SecurityEvent,
  searchEvents,
  setNotes,
  softDeleteEvent,
} from '../../storage/event.repository.js';
import { getFeedback } from '../../storage/feedback.repository.js';
import { detectionsOfEvent } from '../../storage/queries/detections.js';
import type { ApiContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { detectionJson, eventJson, feedbackJson } from '../present.js';
import { dateTime, detectionSchema, errors, eventSchema, feedbackSchema, idParams, riskLevel } from '../schemas.js';

/** Full-text search pages through at most this many best matches. */
export const SEARCH_MAX_HITS = 500;

interface EventQuery {
  camera?: string;
  level?: RiskLevel;
  from?: string;
  to?: string;
  reviewed?: boolean;
  q?: string;
  limit: number;
  cursor?: string;
}

const eventQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    camera: { type: 'string', minLength: 1, description: 'Camera id' },
    level: riskLevel,
    from: { ...dateTime, description: 'Events that started at or after this time' },
    to: { ...dateTime, description: 'Events that started before this time' },
    reviewed: { type: 'boolean' },
    q: {
      type: 'string',
      maxLength: 500,
      description: `Full-text search (summary, reasoning, object types; web-search syntax); best match first, at most ${SEARCH_MAX_HITS} hits`,
    },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: {
      type: 'string',
      pattern: '^(\\d{1,15}_\\d{1,15}|s\\d{1,6})$',
      description: '`next_cursor` of the previous page',
    },
  },
} as const;

const detailSchema = {
  type: 'object',
  properties: {
    ...eventSchema.properties,
    detections: { type: 'array', items: detectionSchema },
    feedback: { ...feedbackSchema, type: ['object', 'null'] },
  },
} as const;

const pageSchema = {
  type: 'object',
  properties: { events: { type: 'array', items: eventSchema }, next_cursor: { type: ['string', 'null'] } },
} as const;

const patchSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { reviewed: { type: 'boolean' }, notes: { type: ['string', 'null'], maxLength: 10_000 } },
} as const;

function matchesFilters(e: SecurityEvent, q: EventQuery): boolean {
  if (q.level !== undefined && e.riskLevel !== q.level) return false;
  if (q.from !== undefined && e.startedAt.getTime() < Date.parse(q.from)) return false;
  if (q.to !== undefined && e.startedAt.getTime() >= Date.parse(q.to)) return false;
  return q.reviewed === undefined || e.reviewed === q.reviewed;
}

/** Search hits ranked by relevance, filtered, paged by offset (`s<offset>` cursors). */
async function searchPage(ctx: ApiContext, text: string, query: EventQuery) {
  if (query.cursor !== undefined && !query.cursor.startsWith('s')) {
    throw badRequest('cursor', 'cursor belongs to a listing without q; start the search without a cursor');
  }
  const hits = await searchEvents(ctx.deps.db, text, { limit: SEARCH_MAX_HITS, cameraId: query.camera });
  const events = hits.map((h) => h.event).filter((e) => matchesFilters(e, query));
  const offset = query.cursor === undefined ? 0 : Number(query.cursor.slice(1));
  const end = offset + query.limit;
  return { events: events.slice(offset, end).map(eventJson), next_cursor: end < events.length ? `s${end}` : null };
}

async function listPage(ctx: ApiContext, query: EventQuery) {
  if (query.q !== undefined && query.q.trim() !== '') return searchPage(ctx, query.q, query);
  if (query.cursor?.startsWith('s')) throw badRequest('cursor', 'cursor belongs to a search; pass the same q');
  const page = await listEvents(ctx.deps.db, {
    cameraId: query.camera,
    level: query.level,
    from: query.from === undefined ? undefined : new Date(query.from),
    to: query.to === undefined ? undefined : new Date(query.to),
    reviewed: query.reviewed,
    limit: query.limit,
    cursor: query.cursor,
  });
  return { events: page.events.map(eventJson), next_cursor: page.nextCursor };
}

async function eventDetail(ctx: ApiContext, id: number) {
  const { db } = ctx.deps;
  const event = await getEvent(db, id);
  if (event === undefined) throw notFound(`no event with id ${id}`);
  const [detections, feedback] = await Promise.all([detectionsOfEvent(db, event.id), getFeedback(db, event.id)]);
  return {
    ...eventJson(event),
    detections: detections.map(detectionJson),
    feedback: feedback === undefined ? null : feedbackJson(feedback),
  };
}

type PatchRequest = FastifyRequest<{ Params: { id: number }; Body: { reviewed?: boolean; notes?: string | null } }>;

async function patchEvent(ctx: ApiContext, request: PatchRequest): Promise<SecurityEvent> {
  const { id } = request.params;
  const { reviewed, notes } = request.body;
  const event = await ctx.deps.db.transaction().execute(async (tx) => {
    if (reviewed !== undefined && !(await markReviewed(tx, id, reviewed))) return undefined;
    if (notes !== undefined && !(await setNotes(tx, id, notes))) return undefined;
    const details = { ...request.body };
    await ctx.audit(request, { action: 'event.update', resourceType: 'event', resourceId: String(id), details }, tx);
    return getEvent(tx, id);
  });
  if (event === undefined) throw notFound(`no event with id ${id}`);
  return event;
}

async function deleteEvent(ctx: ApiContext, request: FastifyRequest<{ Params: { id: number } }>): Promise<void> {
  const { id } = request.params;
  const deleted = await ctx.deps.db.transaction().execute(async (tx) => {
    if (!(await softDeleteEvent(tx, id, new Date(ctx.deps.clock.now())))) return false;
    await ctx.audit(request, { action: 'event.delete', resourceType: 'event', resourceId: String(id) }, tx);
    return true;
  });
  if (!deleted) throw notFound(`no event with id ${id}`);
}

export function eventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tags = ['events'];
  app.get<{ Querystring: EventQuery }>(
    '/api/events',
    {
      schema: {
        tags,
        summary: 'Events newest first (deleted excluded), filtered, paged by cursor; `q` searches full text',
        querystring: eventQuerySchema,
        response: { 200: pageSchema, ...errors(400) },
      },
    },
    async (request) => listPage(ctx, request.query),
  );
  app.get<{ Params: { id: number } }>(
    '/api/events/:id',
    {
      schema: {
        tags,
        summary: 'One event with its detections and feedback',
        params: idParams,
        response: { 200: detailSchema, ...errors(400, 404) },
      },
    },
    async (request) => eventDetail(ctx, request.params.id),
  );
  app.patch<{ Params: { id: number }; Body: { reviewed?: boolean; notes?: string | null } }>(
    '/api/events/:id',
    {
      schema: {
        tags,
        summary: 'Mark reviewed and/or set notes',
        params: idParams,
        body: patchSchema,
        response: { 200: eventSchema, ...errors(400, 404) },
      },
    },
    async (request) => eventJson(await patchEvent(ctx, request)),
  );
  app.delete<{ Params: { id: number } }>(
    '/api/events/:id',
    {
      schema: {
        tags,
        summary: 'Soft delete: the event leaves lists and search',
        params: idParams,
        response: { 204: { type: 'null' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await deleteEvent(ctx, request);
      return reply.status(204).send();
    },
  );
}
