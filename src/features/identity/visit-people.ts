import type { Config } from '../../config/schema.js';
import type { JourneyStep, TrustLevel } from '../../storage/tables/identity.table.js';
import { FACE_NOT_THEM, type MemberInfo, type PersonSighting, type VisitSightings } from './identity.repository.js';
import { cosine } from './vectors.js';

/** A household member recognised in a visit: their best match. */
export interface RecognisedMember {
  id: number;
  name: string;
  trust: TrustLevel;
  similarity: number;
  via: 'face' | 'appearance';
  /** The zones their detections touched. */
  zoneIds: string[];
  /** Their stored typical schedule (a list of schedules; null: any time). */
  schedule: unknown | null;
}

/** Who a visit's people were. */
export interface VisitPeople {
  /** People in the visit: the most person detections in one frame (a clip's frames are not more people). */
  persons: number;
  members: RecognisedMember[];
  /** People nobody recognised: in the frame with the most of them. */
  unknown: number;
  /** The re-identified entities of the visit's unknown people. */
  unknownEntities: string[];
  /** Every entity seen in the visit. */
  entities: string[];
  /** The longest journey (most cameras) of anyone in the visit that crossed more than one camera; else null. */
  journey: { id: string; cameras: string[]; steps: JourneyStep[] } | null;
}

/** Who one sighting was, if anyone: the member, how, and how sure. */
export interface Attribution {
  memberId: number;
  via: 'face' | 'appearance';
  similarity: number;
}

/** The thresholds a visit is judged with (`identity.member_threshold`, `identity.entity_threshold`). */
export interface PeopleThresholds {
  member: number;
  entity: number;
}

/** The thresholds of the configuration. */
export function peopleThresholds(config: Pick<Config, 'identity'>): PeopleThresholds {
  return { member: config.identity.member_threshold, entity: config.identity.entity_threshold };
}

/** Sightings this close in time on one camera, overlapping this much, may be one person moving (a track). */
export const TRACK_GAP_MS = 5000;
export const TRACK_IOU = 0.3;

/**
 * Whether a sighting's own face says it is not `member`: its face matched another named person (a member or not),
 * or it is far (below `FACE_NOT_THEM`) from every face vector of the member's, of the same model. A member enrolled
 * without a face, or a face of another model, says nothing. Pure.
 */
export function faceVetoes(s: PersonSighting, member: MemberInfo): boolean {
  const face = s.face;
  if (face === null) return false;
  if (face.namedPersonId !== null) return face.namedMemberId !== member.id;
  const vector = face.vector;
  if (vector === null) return false;
  const own = member.faceVectors.filter((f) => f.modelId === face.modelId);
  if (own.length === 0) return false;
  return Math.max(...own.map((f) => cosine(vector, f.vector))) < FACE_NOT_THEM;
}

/**
 * Who one person detection was, from its own evidence, strictest first:
 * 1. its one face matched a member's face identity: that member;
 * 2. its appearance matched a member directly (at the member threshold), or it joined a member's entity at the
 *    member threshold: that member, unless its face says otherwise (`faceVetoes`);
 * 3. anyone else: nobody. A sighting that joined a member's entity below the member threshold is not the member: a
 *    stranger who resembles them at the same-person threshold does not inherit their name. Pure.
 */
export function attribute(
  s: PersonSighting,
  members: ReadonlyMap<number, MemberInfo>,
  thresholds: Pick<PeopleThresholds, 'member'>,
): Attribution | undefined {
  const face = s.face;
  if (face?.namedMemberId !== null && face?.namedMemberId !== undefined && members.has(face.namedMemberId)) {
    return { memberId: face.namedMemberId, via: 'face', similarity: face.similarity ?? 0 };
  }
  const byEntity =
    s.entityMemberId !== null && s.entitySimilarity !== null && s.entitySimilarity >= thresholds.member
      ? { memberId: s.entityMemberId, similarity: s.entitySimilarity }
      : undefined;
  const claim =
    s.appearanceMemberId !== null
      ? { memberId: s.appearanceMemberId, similarity: s.appearanceSimilarity ?? 0 }
      : byEntity;
  if (claim === undefined) return undefined;
  const member = members.get(claim.memberId);
  if (member === undefined || faceVetoes(s, member)) return undefined;
  return { ...claim, via: 'appearance' };
}

const frameKey = (s: PersonSighting) => `${s.mediaFileId}/${s.frameIndex ?? 0}`;

function iou(a: PersonSighting['bbox'], b: PersonSighting['bbox']): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/**
 * Every sighting's attribution: its own (`attribute`), then carried along tracks. A sighting without one takes the
 * member of a recognised sighting on the same camera, in another frame within `TRACK_GAP_MS`, whose box overlaps
 * its own (IoU `TRACK_IOU`) and whose appearance is the same person (`thresholds.entity`), unless its own face says
 * otherwise: the member turning away in the next frame of a clip or a burst stays the member. Repeated until
 * nothing changes (a track of several frames). Pure.
 */
export function attributeAll(visit: VisitSightings, thresholds: PeopleThresholds): Map<PersonSighting, Attribution> {
  const out = new Map<PersonSighting, Attribution>();
  for (const s of visit.sightings) {
    const who = attribute(s, visit.members, thresholds);
    if (who !== undefined) out.set(s, who);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of visit.sightings) {
      if (out.has(s) || s.vector === null) continue;
      for (const [other, who] of out) {
        if (other.cameraId !== s.cameraId || frameKey(other) === frameKey(s) || other.vector === null) continue;
        if (Math.abs(other.detectedAt.getTime() - s.detectedAt.getTime()) > TRACK_GAP_MS) continue;
        if (iou(other.bbox, s.bbox) < TRACK_IOU || cosine(other.vector, s.vector) < thresholds.entity) continue;
        const member = visit.members.get(who.memberId);
        if (member === undefined || faceVetoes(s, member)) continue;
        out.set(s, { memberId: who.memberId, via: 'appearance', similarity: who.similarity });
        changed = true;
        break;
      }
    }
  }
  return out;
}

/**
 * A visit's people from its sightings (`attributeAll`): a member counts once per frame (the best-matching sighting;
 * a second person in the same frame who also resembles them is unknown), members keep their best match, and
 * unknown people are counted per frame, so a stranger next to a member is never hidden by them. Pure.
 */
export function visitPeople(visit: VisitSightings, thresholds: PeopleThresholds): VisitPeople {
  const attributed = attributeAll(visit, thresholds);
  const members = new Map<number, RecognisedMember>();
  const frames = new Map<string, PersonSighting[]>();
  for (const s of visit.sightings) frames.set(frameKey(s), [...(frames.get(frameKey(s)) ?? []), s]);
  const unknownEntities = new Set<string>();
  let persons = 0;
  let unknown = 0;
  for (const frame of frames.values()) {
    persons = Math.max(persons, frame.length);
    const taken = new Set<number>();
    let frameUnknown = 0;
    const ordered = [...frame].sort(
      (a, b) => (attributed.get(b)?.similarity ?? -1) - (attributed.get(a)?.similarity ?? -1),
    );
    for (const s of ordered) {
      const who = attributed.get(s);
      const info = who === undefined || taken.has(who.memberId) ? undefined : visit.members.get(who.memberId);
      if (who === undefined || info === undefined) {
        frameUnknown += 1;
        if (s.entityId !== null) unknownEntities.add(s.entityId);
        continue;
      }
      taken.add(info.id);
      const known = members.get(info.id);
      const zoneIds = [...new Set([...(known?.zoneIds ?? []), ...s.zoneIds])];
      if (known === undefined || who.similarity > known.similarity) {
        members.set(info.id, {
          id: info.id,
          name: info.name,
          trust: info.trust,
          similarity: who.similarity,
          via: who.via,
          zoneIds,
          schedule: info.schedule,
        });
      } else known.zoneIds = zoneIds;
    }
    unknown = Math.max(unknown, frameUnknown);
  }
  let journey: VisitPeople['journey'] = null;
  for (const s of visit.sightings) {
    if (s.journey === null || s.journey.cameras.length < 2) continue;
    if (journey === null || s.journey.cameras.length > journey.cameras.length) journey = s.journey;
  }
  return {
    persons,
    members: [...members.values()].sort((a, b) => b.similarity - a.similarity),
    unknown,
    unknownEntities: [...unknownEntities],
    entities: [...new Set(visit.sightings.flatMap((s) => (s.entityId === null ? [] : [s.entityId])))],
    journey,
  };
}
