import { sql } from 'kysely';
import type { EventRecord } from '../domain/events.js';
import type { RiskLevel } from '../domain/risk.js';
import { AppError } from '../lib/errors.js';
import type { DbOrTx } from './database.js';
import { EVENT_COLUMNS, eventRowToEvent, type NewEvent, type SecurityEvent } from './tables/event.table.js';

export {
  type AnalysisSource,
  EVENT_COLUMNS,
  eventRowToEvent,
  type NewEvent,
  type SecurityEvent,
} from './tables/event.table.js';

/**
 * Stores the event of one batch and links its detections, atomically (its own transaction unless `db` already is
 * one). Idempotent on `batchId`: a batch analysed again returns the stored event with `created: false` and links
 * nothing. A detection that already belongs to another event is refused with a permanent INVALID_INPUT error.
 */
export async function insertEventForBatch(
  db: DbOrTx,
  input: NewEvent,
  detectionIds: readonly number[],
): Promise<{ event: SecurityEvent; created: boolean }> {
  if (!db.isTransaction) return db.transaction().execute((tx) => insertEventForBatch(tx, input, detectionIds));
  const ids = [...new Set(detectionIds)];
  const inserted = await db
    .insertInto('events')
    .values({
      batch_id: input.batchId,
      camera_id: input.cameraId,
      started_at: input.startedAt,
      ended_at: input.endedAt,
      risk_score: input.riskScore,
      risk_level: input.riskLevel,
      summary: input.summary,
      reasoning: input.reasoning,
      recommended_action: input.recommendedAction,
      llm_prompt: input.llmPrompt,
      analysis_source: input.analysisSource,
      prompt_version: input.promptVersion,
      model: input.model,
      object_types: [...input.objectTypes],
      detection_count: input.detectionCount ?? ids.length,
      is_fast_path: input.isFastPath,
      closed_at: input.closedAt === undefined ? sql<Date>`now()` : input.closedAt,
      alerts_version: input.alertsDue === true ? 0 : 1,
    })
    .onConflict((oc) => oc.column('batch_id').doNothing())
    .returning(EVENT_COLUMNS)
    .executeTakeFirst();
  if (inserted === undefined) {
    const existing = await db
      .selectFrom('events')
      .select(EVENT_COLUMNS)
      .where('batch_id', '=', input.batchId)
      .executeTakeFirstOrThrow();
    return { event: eventRowToEvent(existing), created: false };
  }
  await linkDetections(db, inserted.id, ids);
  return { event: eventRowToEvent(inserted), created: true };
}

/** Records that the alerts of `version` of the event's analysis were evaluated (never moves back). */
export async function markAlertsEvaluated(db: DbOrTx, eventId: number, version: number): Promise<void> {
  await db
    .updateTable('events')
    .set({ alerts_version: version })
    .where('id', '=', eventId)
    .where('alerts_version', '<', version)
    .execute();
}

/** Events whose latest analysis has not had its alerts evaluated (a crash in between), analysed before `before`. */
export async function eventsWithAlertsDue(db: DbOrTx, before: Date, limit = 100): Promise<SecurityEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .whereRef('alerts_version', '<', 'analysis_version')
    .where('deleted_at', 'is', null)
    .where('created_at', '<=', before)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(eventRowToEvent);
}

/** The event of a batch, locked for update until the transaction ends (undefined when there is none yet). */
export async function lockEventByBatch(tx: DbOrTx, batchId: string): Promise<SecurityEvent | undefined> {
  const row = await tx
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('batch_id', '=', batchId)
    .forUpdate()
    .executeTakeFirst();
  return row === undefined ? undefined : eventRowToEvent(row);
}

/** What a visit's re-analysis changes on its event: the analysed fields of a new event, and whether it is closed. */
export type EventAnalysisUpdate = Omit<
  NewEvent,
  'batchId' | 'cameraId' | 'isFastPath' | 'detectionCount' | 'closedAt' | 'alertsDue'
> & {
  /** Null keeps the visit open; a date closes it. */
  closedAt: Date | null;
};

/**
 * Links more detections of the visit to its event (they must belong to no event: see `insertEventForBatch`) and
 * stores its new analysis; `detection_count` becomes the number of detections linked. Call inside the
 * transaction that locked the event (`lockEventByBatch`).
 */
export async function updateEventForVisit(
  tx: DbOrTx,
  eventId: number,
  update: EventAnalysisUpdate,
  newDetectionIds: readonly number[],
): Promise<SecurityEvent> {
  await linkDetections(tx, eventId, [...new Set(newDetectionIds)]);
  const row = await tx
    .updateTable('events')
    .set((eb) => ({
      started_at: update.startedAt,
      ended_at: update.endedAt,
      risk_score: update.riskScore,
      risk_level: update.riskLevel,
      summary: update.summary,
      reasoning: update.reasoning,
      recommended_action: update.recommendedAction,
      llm_prompt: update.llmPrompt,
      analysis_source: update.analysisSource,
      prompt_version: update.promptVersion,
      model: update.model,
      object_types: [...update.objectTypes],
      closed_at: update.closedAt,
      analysis_version: eb('analysis_version', '+', 1),
      detection_count: eb
        .selectFrom('event_detections')
        .select((x) => x.fn.countAll<number>().as('n'))
        .where('event_id', '=', eventId),
    }))
    .where('id', '=', eventId)
    .returning(EVENT_COLUMNS)
    .executeTakeFirstOrThrow();
  return eventRowToEvent(row);
}

async function linkDetections(db: DbOrTx, eventId: number, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  const present = await db.selectFrom('detections').select('id').where('id', 'in', ids).execute();
  if (present.length !== ids.length) {
    const known = new Set(present.map((r) => r.id));
    const missing = ids.filter((id) => !known.has(id));
    throw new AppError('NOT_FOUND', `event ${eventId}: detections ${missing.join(', ')} do not exist`, {
      permanent: true,
      details: { eventId, missing },
    });
  }
  const linked = await db
    .insertInto('event_detections')
    .values(ids.map((detectionId) => ({ event_id: eventId, detection_id: detectionId })))
    .onConflict((oc) => oc.doNothing())
    .returning('detection_id')
    .execute();
  if (linked.length === ids.length) return;
  const taken = await db
    .selectFrom('event_detections')
    .select(['detection_id', 'event_id'])
    .where('detection_id', 'in', ids)
    .where('event_id', '<>', eventId)
    .orderBy('detection_id')
    .execute();
  const list = taken.map((t) => `${t.detection_id} (event ${t.event_id})`).join(', ');
  throw new AppError('INVALID_INPUT', `detections already belong to another event: ${list}`, {
    permanent: true,
    details: { eventId, taken: taken.map((t) => t.detection_id) },
  });
}

export async function getEvent(
  db: DbOrTx,
  id: number,
  options: { includeDeleted?: boolean } = {},
): Promise<SecurityEvent | undefined> {
  let q = db.selectFrom('events').select(EVENT_COLUMNS).where('id', '=', id);
  if (options.includeDeleted !== true) q = q.where('deleted_at', 'is', null);
  const row = await q.executeTakeFirst();
  return row === undefined ? undefined : eventRowToEvent(row);
}

/** A stored event as the bus, MQTT and the API show it (the boundary from the row's shape). */
export function eventToRecord(e: SecurityEvent): EventRecord {
  return {
    id: e.id,
    batchId: e.batchId,
    cameraId: e.cameraId,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    riskScore: e.riskScore,
    riskLevel: e.riskLevel,
    summary: e.summary,
    reasoning: e.reasoning,
    recommendedAction: e.recommendedAction,
    objectTypes: e.objectTypes,
    detectionCount: e.detectionCount,
    isFastPath: e.isFastPath,
    analysisSource: e.analysisSource,
    closedAt: e.closedAt,
  };
}

/** The newest event (not deleted) of a camera: latest start, then highest id. */
export async function latestEventOfCamera(db: DbOrTx, cameraId: string): Promise<SecurityEvent | undefined> {
  const row = await db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('camera_id', '=', cameraId)
    .where('deleted_at', 'is', null)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : eventRowToEvent(row);
}

/** The camera of an event, deleted or not; undefined when there is no such event. */
export async function cameraOfEvent(db: DbOrTx, eventId: number): Promise<string | undefined> {
  const row = await db.selectFrom('events').select('camera_id').where('id', '=', eventId).executeTakeFirst();
  return row?.camera_id;
}

export async function getEventByBatch(db: DbOrTx, batchId: string): Promise<SecurityEvent | undefined> {
  const row = await db.selectFrom('events').select(EVENT_COLUMNS).where('batch_id', '=', batchId).executeTakeFirst();
  return row === undefined ? undefined : eventRowToEvent(row);
}

/** Detection ids of an event, in id order. */
export async function eventDetectionIds(db: DbOrTx, eventId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('event_detections')
    .select('detection_id')
    .where('event_id', '=', eventId)
    .orderBy('detection_id')
    .execute();
  return rows.map((r) => r.detection_id);
}

async function updateLiveEvent(
  db: DbOrTx,
  id: number,
  set: { deleted_at?: Date; reviewed?: boolean; notes?: string | null },
) {
  const result = await db
    .updateTable('events')
    .set(set)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Soft delete: list and search queries no longer return it. False when absent or already deleted. */
export function softDeleteEvent(db: DbOrTx, id: number, at: Date): Promise<boolean> {
  return updateLiveEvent(db, id, { deleted_at: at });
}

/** False when the event is absent or deleted (as for setNotes). */
export function markReviewed(db: DbOrTx, id: number, reviewed = true): Promise<boolean> {
  return updateLiveEvent(db, id, { reviewed });
}

export function setNotes(db: DbOrTx, id: number, notes: string | null): Promise<boolean> {
  return updateLiveEvent(db, id, { notes });
}

export interface EventListQuery {
  cameraId?: string;
  level?: RiskLevel;
  /** started_at >= from. */
  from?: Date;
  /** started_at < to. */
  to?: Date;
  reviewed?: boolean;
  /** 1..500, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface EventPage {
  events: SecurityEvent[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const CURSOR = /^(\d{1,15})_(\d{1,15})$/;

function decodeCursor(cursor: string): { startedAt: Date; id: number } {
  const match = CURSOR.exec(cursor);
  if (match === null) {
    throw new AppError('INVALID_INPUT', `cursor "${cursor}" is not one this API returned as next_cursor`, {
      permanent: true,
    });
  }
  return { startedAt: new Date(Number(match[1])), id: Number(match[2]) };
}

/** Events newest first (by started_at, then id), deleted ones excluded, paged by keyset cursor. */
export async function listEvents(db: DbOrTx, query: EventListQuery = {}): Promise<EventPage> {
  const limit = Math.min(500, Math.max(1, Math.trunc(query.limit ?? 50)));
  let q = db.selectFrom('events').select(EVENT_COLUMNS).where('deleted_at', 'is', null);
  if (query.cameraId !== undefined) q = q.where('camera_id', '=', query.cameraId);
  if (query.level !== undefined) q = q.where('risk_level', '=', query.level);
  if (query.from !== undefined) q = q.where('started_at', '>=', query.from);
  if (query.to !== undefined) q = q.where('started_at', '<', query.to);
  if (query.reviewed !== undefined) q = q.where('reviewed', '=', query.reviewed);
  if (query.cursor !== undefined) {
    const { startedAt, id } = decodeCursor(query.cursor);
    q = q.where((eb) => eb(eb.refTuple('started_at', 'id'), '<', eb.tuple(startedAt, id)));
  }
  const rows = await q
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const events = rows.slice(0, limit).map(eventRowToEvent);
  const last = events.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? `${last.startedAt.getTime()}_${last.id}` : null;
  return { events, nextCursor };
}

/** Events (not deleted) that started at or after `since`, optionally on one camera. */
export async function countEventsSince(db: DbOrTx, since: Date, options: { cameraId?: string } = {}): Promise<number> {
  let q = db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('started_at', '>=', since)
    .where('deleted_at', 'is', null);
  if (options.cameraId !== undefined) q = q.where('camera_id', '=', options.cameraId);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Events on a camera that started at or after `since` (and before `before`, when given), newest first (for the
 * prompt and the rules scorer).
 */
export async function recentEventsOnCamera(
  db: DbOrTx,
  cameraId: string,
  since: Date,
  options: { before?: Date; limit?: number } = {},
): Promise<SecurityEvent[]> {
  let q = db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('camera_id', '=', cameraId)
    .where('started_at', '>=', since)
    .where('deleted_at', 'is', null);
  if (options.before !== undefined) q = q.where('started_at', '<', options.before);
  const rows = await q
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 20)
    .execute();
  return rows.map(eventRowToEvent);
}

export interface UnlinkedDetection {
  id: number;
  cameraId: string;
  mediaFileId: number;
  frameIndex: number | null;
  objectType: string;
  confidence: number;
  detectedAt: Date;
  createdAt: Date;
}

/**
 * Detections that belong to no event yet, oldest first: after a restart, the aggregator rebuilds its open batches
 * from them.
 */
export function unlinkedDetections(
  db: DbOrTx,
  options: { cameraId?: string; limit?: number } = {},
): Promise<UnlinkedDetection[]> {
  let q = db
    .selectFrom('detections as d')
    .select(BATCHABLE_COLUMNS)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('event_detections as ed').select('ed.event_id').whereRef('ed.detection_id', '=', 'd.id'))),
    );
  if (options.cameraId !== undefined) q = q.where('d.camera_id', '=', options.cameraId);
  if (options.limit !== undefined) q = q.limit(options.limit);
  return q.orderBy('d.detected_at').orderBy('d.id').execute();
}

const BATCHABLE_COLUMNS = [
  'd.id',
  'd.camera_id as cameraId',
  'd.media_file_id as mediaFileId',
  'd.frame_index as frameIndex',
  'd.object_type as objectType',
  'd.confidence',
  'd.detected_at as detectedAt',
  'd.created_at as createdAt',
] as const;

/**
 * Detections of the open (not yet closed) events, oldest first: the start of a visit whose batch is rebuilt after
 * a restart.
 */
export function openEventDetections(db: DbOrTx): Promise<UnlinkedDetection[]> {
  return db
    .selectFrom('detections as d')
    .innerJoin('event_detections as ed', 'ed.detection_id', 'd.id')
    .innerJoin('events as e', 'e.id', 'ed.event_id')
    .select(BATCHABLE_COLUMNS)
    .where('e.closed_at', 'is', null)
    .where('e.deleted_at', 'is', null)
    .orderBy('d.detected_at')
    .orderBy('d.id')
    .execute();
}

export interface EventSearchHit {
  event: SecurityEvent;
  rank: number;
}

/**
 * Full-text search over summary, reasoning and object types (English stemming, web-search syntax: `"exact
 * phrase"`, `or`, `-word`), best match first; deleted events never come back. A blank query finds nothing.
 */
export async function searchEvents(
  db: DbOrTx,
  query: string,
  options: { limit?: number; cameraId?: string } = {},
): Promise<EventSearchHit[]> {
  if (query.trim() === '') return [];
  const tsquery = sql`websearch_to_tsquery('english', ${query})`;
  let q = db
    .selectFrom('events')
    .select([...EVENT_COLUMNS, sql<number>`ts_rank(search_vector, ${tsquery})`.as('rank')])
    .where(sql<boolean>`search_vector @@ ${tsquery}`)
    .where('deleted_at', 'is', null);
  if (options.cameraId !== undefined) q = q.where('camera_id', '=', options.cameraId);
  const rows = await q
    .orderBy('rank', 'desc')
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 50)
    .execute();
  return rows.map(({ rank, ...row }) => ({ event: eventRowToEvent(row), rank: Number(rank) }));
}
