import { sql } from 'kysely';
import type { DbOrTx } from '../../storage/database.js';
import { lockIdentityWrites } from '../../storage/locks.js';
import type { JourneyStep, TrustLevel } from '../../storage/tables/identity.table.js';
import { bytesToVector, type GalleryEntry, vectorToBytes } from './vectors.js';

/**
 * What the identity feature's frame processors write (re-identification vectors, entities, journeys, face events,
 * unknown-face clusters) and what the analysis and Home Assistant read about a visit's people. Every vector is read
 * only next to vectors of the same model id.
 */

/** The identity write lock (`src/storage/locks.ts`), taken first by every identity write transaction. */
export const lockIdentity = lockIdentityWrites;

/** The household members' re-identification gallery for one model: one entry per stored vector. */
export async function memberGallery(db: DbOrTx, modelId: string): Promise<GalleryEntry<number>[]> {
  const rows = await db
    .selectFrom('person_embeddings')
    .select(['member_id', 'embedding'])
    .where('model_id', '=', modelId)
    .execute();
  return rows.map((r) => ({ key: r.member_id, vector: bytesToVector(r.embedding) }));
}

/** An entity as the re-identification processor matches against it. */
export interface EntityCandidate {
  id: string;
  vector: Float32Array;
  count: number;
  memberId: number | null;
  cameras: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/**
 * At most this many entities are compared with each file's people: the most recently seen. A home sees far fewer
 * people within the retention window; a busy street camera would otherwise decode every vector ever stored per file.
 */
export const ENTITY_CANDIDATES_MAX = 5000;
/** At most this many lone unknown faces (the newest) are compared with each new unknown face. */
export const LONE_FACES_MAX = 2000;

/** The person entities of one model seen at or after `since`, newest first (the ones a new sighting may join). */
export async function recentEntities(db: DbOrTx, modelId: string, since: Date): Promise<EntityCandidate[]> {
  const rows = await db
    .selectFrom('entities')
    .select(['id', 'embedding', 'appearance_count', 'member_id', 'cameras', 'first_seen_at', 'last_seen_at'])
    .where('model_id', '=', modelId)
    .where('entity_type', '=', 'person')
    .where('last_seen_at', '>=', since)
    .orderBy('last_seen_at', 'desc')
    .limit(ENTITY_CANDIDATES_MAX)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    vector: bytesToVector(r.embedding),
    count: r.appearance_count,
    memberId: r.member_id,
    cameras: r.cameras,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
  }));
}

/** A new entity from its first sighting; returns its id. */
export async function insertEntity(
  db: DbOrTx,
  e: { modelId: string; vector: Float32Array; at: Date; cameraId: string; memberId: number | null },
): Promise<string> {
  const row = await db
    .insertInto('entities')
    .values({
      model_id: e.modelId,
      embedding: vectorToBytes(e.vector),
      first_seen_at: e.at,
      last_seen_at: e.at,
      cameras: [e.cameraId],
      member_id: e.memberId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** An entity after another sighting: its new mean vector, count, time span, cameras and member. */
export async function updateEntity(db: DbOrTx, e: EntityCandidate): Promise<void> {
  await db
    .updateTable('entities')
    .set({
      embedding: vectorToBytes(e.vector),
      appearance_count: e.count,
      first_seen_at: e.firstSeenAt,
      last_seen_at: e.lastSeenAt,
      cameras: e.cameras,
      member_id: e.memberId,
    })
    .where('id', '=', e.id)
    .execute();
}

/** The entity's journey that a sighting at `at` belongs to: one whose span, widened by `windowMs`, holds it. */
export async function journeyAround(
  db: DbOrTx,
  entityId: string,
  at: Date,
  windowMs: number,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('journeys')
    .select('id')
    .where('entity_id', '=', entityId)
    .where('last_seen_at', '>=', new Date(at.getTime() - windowMs))
    .where('started_at', '<=', new Date(at.getTime() + windowMs))
    .orderBy('last_seen_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

export async function insertJourney(db: DbOrTx, entityId: string, at: Date, cameraId: string): Promise<string> {
  const steps: JourneyStep[] = [{ camera_id: cameraId, at: at.toISOString() }];
  const row = await db
    .insertInto('journeys')
    .values({
      entity_id: entityId,
      started_at: at,
      last_seen_at: at,
      cameras: [cameraId],
      steps: JSON.stringify(steps),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Recomputes a journey from its sightings (they may arrive out of order across cameras): its span, and its steps,
 * one per change of camera in time order.
 */
export async function refreshJourney(db: DbOrTx, journeyId: string): Promise<void> {
  const sightings = await db
    .selectFrom('reid_embeddings')
    .select(['camera_id', 'detected_at'])
    .where('journey_id', '=', journeyId)
    .orderBy('detected_at')
    .orderBy('detection_id')
    .execute();
  if (sightings.length === 0) return;
  const steps = journeySteps(sightings.map((s) => ({ cameraId: s.camera_id, at: s.detected_at })));
  await db
    .updateTable('journeys')
    .set({
      started_at: sightings[0]!.detected_at,
      last_seen_at: sightings.at(-1)!.detected_at,
      cameras: [...new Set(steps.map((s) => s.camera_id))],
      steps: JSON.stringify(steps),
    })
    .where('id', '=', journeyId)
    .execute();
}

/** Time-ordered sightings to steps: one step where the camera changes. Pure. */
export function journeySteps(sightings: readonly { cameraId: string; at: Date }[]): JourneyStep[] {
  const steps: JourneyStep[] = [];
  for (const s of sightings) {
    if (steps.at(-1)?.camera_id !== s.cameraId) steps.push({ camera_id: s.cameraId, at: s.at.toISOString() });
  }
  return steps;
}

export interface NewReidEmbedding {
  detectionId: number;
  cameraId: string;
  detectedAt: Date;
  modelId: string;
  vector: Float32Array;
  entityId: string;
  entitySimilarity: number | null;
  memberId: number | null;
  memberSimilarity: number | null;
  journeyId: string;
}

/** A detection's re-identification row (a re-run after reprocessing replaces it). */
export async function upsertReidEmbedding(db: DbOrTx, r: NewReidEmbedding): Promise<void> {
  const values = {
    detection_id: r.detectionId,
    camera_id: r.cameraId,
    detected_at: r.detectedAt,
    model_id: r.modelId,
    embedding: vectorToBytes(r.vector),
    entity_id: r.entityId,
    entity_similarity: r.entitySimilarity,
    member_id: r.memberId,
    member_similarity: r.memberSimilarity,
    journey_id: r.journeyId,
  };
  await db
    .insertInto('reid_embeddings')
    .values(values)
    .onConflict((oc) => oc.column('detection_id').doUpdateSet(values))
    .execute();
}

/** Camera and capture time of the given detections, by id. */
export async function detectionPlaces(
  db: DbOrTx,
  ids: readonly number[],
): Promise<Map<number, { cameraId: string; at: Date }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('detections')
    .select(['id', 'camera_id', 'detected_at'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, { cameraId: r.camera_id, at: r.detected_at }]));
}

// ---- faces --------------------------------------------------------------------------------------------------

/** Known people's face gallery for one model: named people and unknown-face clusters, one entry per vector. */
export async function faceGallery(
  db: DbOrTx,
  modelId: string,
): Promise<GalleryEntry<{ personId: number; cluster: boolean }>[]> {
  const rows = await db
    .selectFrom('face_embeddings as f')
    .innerJoin('known_persons as p', 'p.id', 'f.person_id')
    .select(['f.person_id', 'f.embedding', 'p.auto_cluster'])
    .where('f.model_id', '=', modelId)
    .execute();
  return rows.map((r) => ({
    key: { personId: r.person_id, cluster: r.auto_cluster },
    vector: bytesToVector(r.embedding),
  }));
}

/** Unknown faces not yet in any cluster, seen at or after `since`: what a new unknown face may group with. */
export async function loneUnknownFaces(
  db: DbOrTx,
  modelId: string,
  since: Date,
): Promise<GalleryEntry<{ faceEventId: number; quality: number }>[]> {
  const rows = await db
    .selectFrom('face_detection_events')
    .select(['id', 'embedding', 'quality'])
    .where('model_id', '=', modelId)
    .where('is_unknown', '=', true)
    .where('person_id', 'is', null)
    .where('embedding', 'is not', null)
    .where('detected_at', '>=', since)
    .orderBy('detected_at', 'desc')
    .limit(LONE_FACES_MAX)
    .execute();
  return rows.flatMap((r) =>
    r.embedding === null
      ? []
      : [{ key: { faceEventId: r.id, quality: r.quality }, vector: bytesToVector(r.embedding) }],
  );
}

export interface NewFaceEvent {
  detectionId: number;
  cameraId: string;
  detectedAt: Date;
  box: { x: number; y: number; width: number; height: number };
  confidence: number;
  quality: number;
  rejected: string | null;
  modelId: string | null;
  vector: Float32Array | null;
  personId: number | null;
  similarity: number | null;
  /** The best similarity to any named person's face (null: no named face to compare with, or no vector). */
  namedSimilarity: number | null;
  isUnknown: boolean;
}

export async function insertFaceEvent(db: DbOrTx, f: NewFaceEvent): Promise<number> {
  const row = await db
    .insertInto('face_detection_events')
    .values({
      detection_id: f.detectionId,
      camera_id: f.cameraId,
      detected_at: f.detectedAt,
      bbox_x: f.box.x,
      bbox_y: f.box.y,
      bbox_width: f.box.width,
      bbox_height: f.box.height,
      confidence: f.confidence,
      quality: f.quality,
      rejected: f.rejected,
      model_id: f.modelId,
      embedding: f.vector === null ? null : vectorToBytes(f.vector),
      person_id: f.personId,
      similarity: f.similarity,
      named_similarity: f.namedSimilarity,
      is_unknown: f.isUnknown,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Forgets the faces found on these detections (they are being enriched again). */
export async function deleteFaceEventsOf(db: DbOrTx, detectionIds: readonly number[]): Promise<void> {
  if (detectionIds.length === 0) return;
  await db
    .deleteFrom('face_detection_events')
    .where('detection_id', 'in', [...detectionIds])
    .execute();
}

/** A new "Unknown person N" cluster (N one more than the highest in use); returns its id. */
export async function insertFaceCluster(db: DbOrTx): Promise<number> {
  // One more than the highest number in use (a count would reuse a number after a group was named or removed).
  const { n } = await db
    .selectFrom('known_persons')
    .select(sql<number | null>`max(substring(name from '^Unknown person ([0-9]{1,9})$')::integer)`.as('n'))
    .executeTakeFirstOrThrow();
  const row = await db
    .insertInto('known_persons')
    .values({ name: `Unknown person ${Number(n ?? 0) + 1}`, auto_cluster: true })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** How many face vectors a person's gallery holds. */
export async function faceGallerySize(db: DbOrTx, personId: number): Promise<number> {
  const { n } = await db
    .selectFrom('face_embeddings')
    .select(sql<number>`count(*)`.as('n'))
    .where('person_id', '=', personId)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Puts earlier lone unknown faces into a cluster. */
export async function assignFaceEvents(db: DbOrTx, faceEventIds: readonly number[], personId: number): Promise<void> {
  if (faceEventIds.length === 0) return;
  await db
    .updateTable('face_detection_events')
    .set({ person_id: personId })
    .where('id', 'in', [...faceEventIds])
    .execute();
}

// ---- reading a visit's people ----------------------------------------------------------------------------

/**
 * A face this far (cosine) from a member's own face vectors is not theirs: the 95th percentile of different-person
 * face pairs measured on 25 people (docs/IDENTITY-THRESHOLDS.md) is 0.36, while a member's own faces fall below it
 * in few shots (small, blurred); between this and the match threshold a face is evidence of nothing.
 */
export const FACE_NOT_THEM = 0.36;

/** The one good face of a person detection (passed the gate; a detection with two is ambiguous and has none). */
export interface SightingFace {
  /** The named person it matched at the match threshold (not an unknown-face group), and their member. */
  namedPersonId: number | null;
  namedMemberId: number | null;
  similarity: number | null;
  /** In memory only: compared with a claimed member's own face vectors (null: erased, or none stored). */
  modelId: string | null;
  vector: Float32Array | null;
}

/** One person detection of a visit and the evidence of who it was (vectors in memory only, never sent anywhere). */
export interface PersonSighting {
  detectionId: number;
  frameIndex: number | null;
  mediaFileId: number;
  cameraId: string;
  detectedAt: Date;
  bbox: { x: number; y: number; width: number; height: number };
  /** Its appearance vector (null: none, e.g. a crop too small). */
  vector: Float32Array | null;
  /** The member its appearance matched directly (at the member threshold when stored), and how well. */
  appearanceMemberId: number | null;
  appearanceSimilarity: number | null;
  face: SightingFace | null;
  /**
   * The re-identified entity (null: no appearance vector), how well it joined it (null: it started it), and the
   * member the entity belongs to.
   */
  entityId: string | null;
  entitySimilarity: number | null;
  entityMemberId: number | null;
  journey: { id: string; cameras: string[]; steps: JourneyStep[] } | null;
  zoneIds: string[];
}

/** A household member as the visit's judgement needs them. */
export interface MemberInfo {
  id: number;
  name: string;
  trust: TrustLevel;
  /** The stored typical schedule (a list of schedules; null: any time). */
  schedule: unknown | null;
  /** Their face identity's vectors (in memory only): a good face far from all of them is not theirs. */
  faceVectors: { modelId: string; vector: Float32Array }[];
}

/** A visit's person sightings and the members they name. */
export interface VisitSightings {
  sightings: PersonSighting[];
  members: ReadonlyMap<number, MemberInfo>;
}

/**
 * The evidence of who each person detection among `detectionIds` was: its box, appearance vector, match and entity
 * (reid_embeddings), and its one good face (face_detection_events → known_persons). A detection with more than one
 * face that passed the gate is ambiguous (a neighbour's face in its head region): its faces are not used. Detections
 * of other types are left out; a person detection without any identity row is still listed. `visitPeople` decides.
 */
export async function sightingsOfDetections(db: DbOrTx, detectionIds: readonly number[]): Promise<VisitSightings> {
  if (detectionIds.length === 0) return { sightings: [], members: new Map() };
  const ids = [...detectionIds];
  const rows = await db
    .selectFrom('detections as d')
    .leftJoin('reid_embeddings as r', 'r.detection_id', 'd.id')
    .leftJoin('entities as e', 'e.id', 'r.entity_id')
    .leftJoin('journeys as j', 'j.id', 'r.journey_id')
    .select([
      'd.id',
      'd.frame_index',
      'd.media_file_id',
      'd.camera_id',
      'd.detected_at',
      'd.zone_ids',
      'd.bbox_x',
      'd.bbox_y',
      'd.bbox_width',
      'd.bbox_height',
      'r.embedding',
      'r.member_id',
      'r.member_similarity',
      'r.entity_id',
      'r.entity_similarity',
      'e.member_id as entity_member_id',
      'r.journey_id',
      'j.cameras as journey_cameras',
      'j.steps as journey_steps',
    ])
    .where('d.id', 'in', ids)
    .where('d.object_type', '=', 'person')
    .orderBy('d.id')
    .execute();
  const faces = await db
    .selectFrom('face_detection_events as f')
    .leftJoin('known_persons as p', 'p.id', 'f.person_id')
    .select([
      'f.detection_id',
      'f.person_id',
      'f.similarity',
      'f.model_id',
      'f.embedding',
      'p.member_id',
      'p.auto_cluster',
    ])
    .where('f.detection_id', 'in', ids)
    .where('f.rejected', 'is', null)
    .execute();
  const facesOf = new Map<number, typeof faces>();
  for (const f of faces) facesOf.set(f.detection_id, [...(facesOf.get(f.detection_id) ?? []), f]);
  const memberIds = new Set<number>();
  for (const r of rows) {
    for (const id of [r.member_id, r.entity_member_id, ...(facesOf.get(r.id) ?? []).map((f) => f.member_id)]) {
      if (id !== null && id !== undefined) memberIds.add(id);
    }
  }
  const members = await membersByIds(db, [...memberIds]);
  const sightings = rows.map((r): PersonSighting => {
    const own = facesOf.get(r.id) ?? [];
    const one = own.length === 1 ? own[0] : undefined; // none, or ambiguous
    const named = one !== undefined && one.person_id !== null && one.auto_cluster === false;
    const face =
      one === undefined
        ? null
        : {
            namedPersonId: named ? one.person_id : null,
            namedMemberId: named ? one.member_id : null,
            similarity: named ? one.similarity : null,
            modelId: one.model_id,
            vector: one.embedding === null ? null : bytesToVector(one.embedding),
          };
    return {
      detectionId: r.id,
      frameIndex: r.frame_index,
      mediaFileId: r.media_file_id,
      cameraId: r.camera_id,
      detectedAt: r.detected_at,
      bbox: { x: r.bbox_x, y: r.bbox_y, width: r.bbox_width, height: r.bbox_height },
      vector: r.embedding === null ? null : bytesToVector(r.embedding),
      appearanceMemberId: r.member_id,
      appearanceSimilarity: r.member_id === null ? null : r.member_similarity,
      face,
      entityId: r.entity_id,
      entitySimilarity: r.entity_similarity,
      entityMemberId: r.entity_member_id,
      journey:
        r.journey_id === null || r.journey_cameras === null || r.journey_steps === null
          ? null
          : { id: r.journey_id, cameras: r.journey_cameras, steps: r.journey_steps },
      zoneIds: r.zone_ids,
    };
  });
  return { sightings, members };
}

/** Household members by id, with what the risk judgement needs (their face identity's vectors included). */
export async function membersByIds(db: DbOrTx, ids: readonly number[]): Promise<Map<number, MemberInfo>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('household_members')
    .select(['id', 'name', 'trust_level', 'typical_schedule'])
    .where('id', 'in', [...ids])
    .execute();
  const faces = await db
    .selectFrom('face_embeddings as fe')
    .innerJoin('known_persons as p', 'p.id', 'fe.person_id')
    .select(['p.member_id', 'fe.model_id', 'fe.embedding'])
    .where('p.member_id', 'in', [...ids])
    .execute();
  const out = new Map<number, MemberInfo>();
  for (const m of rows) {
    out.set(m.id, { id: m.id, name: m.name, trust: m.trust_level, schedule: m.typical_schedule, faceVectors: [] });
  }
  for (const f of faces) {
    if (f.member_id === null) continue;
    out.get(f.member_id)?.faceVectors.push({ modelId: f.model_id, vector: bytesToVector(f.embedding) });
  }
  return out;
}

/**
 * The newest detections that name a member by any evidence (a direct appearance match, a member's entity, a face
 * of a named person who is a member), newest first; of one member and/or on one camera when given. What presence
 * and "last recognised" judge with `attributeAll`, as the analysis does.
 */
export async function memberCandidateDetections(
  db: DbOrTx,
  options: { memberId?: number; cameraId?: string; limit: number },
): Promise<number[]> {
  let appearance = db
    .selectFrom('reid_embeddings as r')
    .leftJoin('entities as e', 'e.id', 'r.entity_id')
    .select(['r.detection_id as id', 'r.detected_at as at']);
  let face = db
    .selectFrom('face_detection_events as f')
    .innerJoin('known_persons as p', 'p.id', 'f.person_id')
    .select(['f.detection_id as id', 'f.detected_at as at'])
    .where('p.auto_cluster', '=', false)
    .where('f.rejected', 'is', null);
  const { memberId, cameraId } = options;
  if (memberId === undefined) {
    appearance = appearance.where((eb) =>
      eb.or([eb('r.member_id', 'is not', null), eb('e.member_id', 'is not', null)]),
    );
    face = face.where('p.member_id', 'is not', null);
  } else {
    appearance = appearance.where((eb) => eb.or([eb('r.member_id', '=', memberId), eb('e.member_id', '=', memberId)]));
    face = face.where('p.member_id', '=', memberId);
  }
  if (cameraId !== undefined) {
    appearance = appearance.where('r.camera_id', '=', cameraId);
    face = face.where('f.camera_id', '=', cameraId);
  }
  const [a, f] = await Promise.all([
    appearance.orderBy('r.detected_at', 'desc').limit(options.limit).execute(),
    face.orderBy('f.detected_at', 'desc').limit(options.limit).execute(),
  ]);
  const byTime = [...a, ...f].sort((x, y) => y.at.getTime() - x.at.getTime());
  return [...new Set(byTime.map((r) => r.id))].slice(0, options.limit);
}

/** The zone permissions of the given zones: which members each admits, and when (null: any time). */
export async function zonePermissions(
  db: DbOrTx,
  zoneIds: readonly string[],
): Promise<Map<string, { memberId: number; schedule: unknown }[]>> {
  const out = new Map<string, { memberId: number; schedule: unknown }[]>();
  if (zoneIds.length === 0) return out;
  const rows = await db
    .selectFrom('zone_household_configs')
    .select(['zone_id', 'member_id', 'schedule'])
    .where('zone_id', 'in', [...zoneIds])
    .execute();
  for (const r of rows) {
    const list = out.get(r.zone_id) ?? [];
    list.push({ memberId: r.member_id, schedule: r.schedule });
    out.set(r.zone_id, list);
  }
  return out;
}

/**
 * How often an entity was seen before `before` since `since`: its journeys then (one journey is one visit, however
 * many cameras and pictures it crossed), leaving out the journeys of the visit being judged (the same walk around the
 * house is not a return), with the latest sighting and the cameras.
 */
export async function entityHistory(
  db: DbOrTx,
  entityId: string,
  since: Date,
  before: Date,
  excludeJourneys: readonly string[],
): Promise<{ visits: number; lastAt: Date | null; cameras: string[] }> {
  let query = db
    .selectFrom('reid_embeddings as r')
    .select([
      sql<number>`count(distinct r.journey_id)`.as('visits'),
      sql<Date | null>`max(r.detected_at)`.as('last_at'),
      sql<string[] | null>`array_agg(distinct r.camera_id)`.as('cameras'),
    ])
    .where('r.entity_id', '=', entityId)
    .where('r.detected_at', '>=', since)
    .where('r.detected_at', '<', before);
  if (excludeJourneys.length > 0) query = query.where('r.journey_id', 'not in', [...excludeJourneys]);
  const row = await query.executeTakeFirstOrThrow();
  const lastAt = row.last_at === null ? null : new Date(row.last_at);
  return { visits: Number(row.visits), lastAt, cameras: row.visits === 0 ? [] : (row.cameras ?? []) };
}
