import type { Config } from '../../config/schema.js';
import type { EnrichmentResult, FrameProcessor } from '../../enrichment/contract.js';
import type { DbOrTx } from '../../storage/database.js';
import type { Embedder } from './contract.js';
import {
  detectionPlaces,
  type EntityCandidate,
  insertEntity,
  insertJourney,
  journeyAround,
  lockIdentity,
  memberGallery,
  recentEntities,
  refreshJourney,
  updateEntity,
  upsertReidEmbedding,
} from './identity.repository.js';
import { embedPerson } from './models/person-faces.js';
import { loadReidEmbedder } from './models/reid-model.js';
import { bestMatch, cosine, runningMean } from './vectors.js';

export const REID_PROCESSOR = 'person-reid';

/** A person detection's appearance vector, as `process` hands it to `persist` (same process, never serialised). */
interface ReidData extends Record<string, unknown> {
  /** Absent: the crop was too small to embed. */
  vector?: Float32Array;
  frame: number | null;
}

export interface ReidMatching {
  memberThreshold: number;
  entityThreshold: number;
  journeyWindowMs: number;
  /**
   * Entities last seen longer ago than this are not joined (a returning visitor after that is a new entity): the
   * detection retention, whose end removes their sightings; null: no horizon.
   */
  entityHorizonMs: number | null;
}

export function reidMatching(config: Config): ReidMatching {
  return {
    memberThreshold: config.identity.member_threshold,
    entityThreshold: config.identity.entity_threshold,
    journeyWindowMs: config.identity.journey_window_s * 1000,
    // Detections kept forever (0 days): every entity stays joinable.
    entityHorizonMs: config.retention.detections_days > 0 ? config.retention.detections_days * 86_400_000 : null,
  };
}

/**
 * Person re-identification: an appearance vector for every person detection (`identity.reid_model`), matched
 * against the household's gallery and against the people seen before. Each detection joins its best-matching
 * entity at or above `identity.entity_threshold` (never one already given to another person in the same frame) or
 * starts a new one, and the entity's journey across cameras grows when the sighting is within the journey window
 * of its last one. Vectors are only compared with vectors of the same model id.
 */
export function reidProcessor(config: Config): FrameProcessor {
  const matching = reidMatching(config);
  let reid: Embedder | undefined;
  return {
    name: REID_PROCESSOR,
    appliesTo: ['person'],
    async load(models) {
      reid = await loadReidEmbedder(models, config.identity.reid_model);
    },
    async process(frame, detections) {
      if (reid === undefined) throw new Error('the re-identification model is not loaded');
      const results: EnrichmentResult[] = [];
      for (const d of detections) {
        const vector = await embedPerson(frame, d.bbox, reid);
        const data: ReidData = vector === undefined ? { frame: frame.frameIndex } : { vector, frame: frame.frameIndex };
        results.push({ detectionId: d.id, data });
      }
      return results;
    },
    async persist(tx, _mediaFileId, results) {
      if (reid === undefined) throw new Error('the re-identification model is not loaded');
      await storeSightings(tx, reid.modelId, results, matching);
    },
    async close() {
      reid = undefined;
    },
  };
}

/**
 * The re-id rows, entities and journeys of one file's person detections, in the enrichment transaction (holding the
 * identity lock, so two enrichment workers never build two entities of one person, nor write an entity from a stale
 * read). Per frame, sightings are matched to entities best pair first, each entity to one person at most; an entity
 * that belongs to a household member is joined only by that member's direct match, or at the member threshold by
 * a sighting that matched no member: a stranger never slips into a member's entity at the lower same-person
 * threshold and inherits their name.
 */
export async function storeSightings(
  tx: DbOrTx,
  modelId: string,
  results: readonly EnrichmentResult[],
  matching: ReidMatching,
): Promise<void> {
  const sightings = results.flatMap((r) => {
    const data = r.data as ReidData;
    return r.detectionId === null || data.vector === undefined
      ? []
      : [{ detectionId: r.detectionId, vector: data.vector, frame: data.frame }];
  });
  if (sightings.length === 0) return;
  await lockIdentity(tx);
  const places = await detectionPlaces(
    tx,
    sightings.map((s) => s.detectionId),
  );
  const earliest = Math.min(...[...places.values()].map((p) => p.at.getTime()));
  const members = await memberGallery(tx, modelId);
  const since = matching.entityHorizonMs === null ? new Date(0) : new Date(earliest - matching.entityHorizonMs);
  const entities = await recentEntities(tx, modelId, since);
  const touchedJourneys = new Set<string>();
  const frames = new Map<number | null, typeof sightings>();
  for (const s of sightings) frames.set(s.frame, [...(frames.get(s.frame) ?? []), s]);
  for (const frame of frames.values()) {
    const present = frame.flatMap((s) => {
      const place = places.get(s.detectionId);
      if (place === undefined) return []; // the detection was replaced meanwhile (reprocessing)
      const member = bestMatch(s.vector, members);
      const memberId = member !== undefined && member.similarity >= matching.memberThreshold ? member.key : null;
      return [{ ...s, place, member, memberId }];
    });
    const joined = assignEntities(present, entities, matching);
    for (const s of present) {
      const { place, memberId, member } = s;
      const join = joined.get(s);
      let entity: EntityCandidate;
      if (join !== undefined) {
        entity = join.entity;
        entity.vector = runningMean(entity.vector, entity.count, s.vector);
        entity.count += 1;
        if (place.at < entity.firstSeenAt) entity.firstSeenAt = place.at;
        if (place.at > entity.lastSeenAt) entity.lastSeenAt = place.at;
        if (!entity.cameras.includes(place.cameraId)) entity.cameras = [...entity.cameras, place.cameraId];
        // An entity becomes a member's only when its own mean matches their gallery: a member's sighting never
        // turns a stranger's entity into theirs (the stranger's next visit would then carry the member's name).
        if (entity.memberId === null && memberId !== null) {
          const theirs = bestMatch(
            entity.vector,
            members.filter((m) => m.key === memberId),
          );
          if (theirs !== undefined && theirs.similarity >= matching.memberThreshold) entity.memberId = memberId;
        }
        await updateEntity(tx, entity);
      } else {
        const id = await insertEntity(tx, {
          modelId,
          vector: s.vector,
          at: place.at,
          cameraId: place.cameraId,
          memberId,
        });
        entity = {
          id,
          vector: s.vector,
          count: 1,
          memberId,
          cameras: [place.cameraId],
          firstSeenAt: place.at,
          lastSeenAt: place.at,
        };
        entities.push(entity);
      }
      const journeyId =
        (await journeyAround(tx, entity.id, place.at, matching.journeyWindowMs)) ??
        (await insertJourney(tx, entity.id, place.at, place.cameraId));
      await upsertReidEmbedding(tx, {
        detectionId: s.detectionId,
        cameraId: place.cameraId,
        detectedAt: place.at,
        modelId,
        vector: s.vector,
        entityId: entity.id,
        entitySimilarity: join?.similarity ?? null,
        memberId,
        memberSimilarity: member?.similarity ?? null,
        journeyId,
      });
      touchedJourneys.add(journeyId);
    }
  }
  for (const id of touchedJourneys) await refreshJourney(tx, id);
}

/**
 * One frame's sightings matched to entities: every eligible (sighting, entity) pair at or above the same-person
 * threshold, best first, each sighting and each entity used once (two people in one frame are two entities). An
 * entity of a member is eligible to the sighting that matched that member directly, or, without a direct match, at
 * the member threshold; never to a sighting that matched another member. A member's sighting joins an unnamed
 * entity only at the member threshold. Pure.
 */
export function assignEntities<S extends { vector: Float32Array; memberId: number | null }>(
  sightings: readonly S[],
  entities: readonly EntityCandidate[],
  matching: Pick<ReidMatching, 'entityThreshold' | 'memberThreshold'>,
): Map<S, { entity: EntityCandidate; similarity: number }> {
  const pairs: { sighting: S; entity: EntityCandidate; similarity: number }[] = [];
  for (const sighting of sightings) {
    for (const entity of entities) {
      const similarity = cosine(sighting.vector, entity.vector);
      if (similarity < matching.entityThreshold) continue;
      if (entity.memberId !== null && entity.memberId !== sighting.memberId) {
        if (sighting.memberId !== null || similarity < matching.memberThreshold) continue;
      }
      // A member's sighting joins someone else's (unnamed) entity only when it is that close: otherwise it starts
      // its own, named after them.
      if (entity.memberId === null && sighting.memberId !== null && similarity < matching.memberThreshold) continue;
      pairs.push({ sighting, entity, similarity });
    }
  }
  pairs.sort((a, b) => b.similarity - a.similarity);
  const out = new Map<S, { entity: EntityCandidate; similarity: number }>();
  const used = new Set<string>();
  for (const pair of pairs) {
    if (out.has(pair.sighting) || used.has(pair.entity.id)) continue;
    out.set(pair.sighting, { entity: pair.entity, similarity: pair.similarity });
    used.add(pair.entity.id);
  }
  return out;
}
