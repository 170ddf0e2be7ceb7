import type { JourneyStep, TrustLevel } from '../../storage/tables/identity.table.js';
import type { MemberInfo, PersonSighting, VisitSightings } from './identity.repository.js';

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

/**
 * Who one person detection was, from its evidence, strictest first:
 * 1. its one face matched a member's face identity: that member;
 * 2. its appearance matched a member directly (at the member threshold), or it joined a member's entity at the
 *    member threshold: that member, unless its face passed the gate and matched nobody while the member has a face
 *    identity (a face that is not theirs means it is not them);
 * 3. anyone else: nobody. A sighting that joined a member's entity below the member threshold is not the member: a
 *    stranger who resembles them at the same-person threshold does not inherit their name. Pure.
 */
export function attribute(
  s: PersonSighting,
  members: ReadonlyMap<number, MemberInfo>,
  memberThreshold: number,
): Attribution | undefined {
  if (s.faceMemberId !== null && members.has(s.faceMemberId)) {
    return { memberId: s.faceMemberId, via: 'face', similarity: s.faceSimilarity ?? 0 };
  }
  const byEntity =
    s.entityMemberId !== null && s.entitySimilarity !== null && s.entitySimilarity >= memberThreshold
      ? { memberId: s.entityMemberId, similarity: s.entitySimilarity }
      : undefined;
  const byAppearance =
    s.appearanceMemberId !== null
      ? { memberId: s.appearanceMemberId, similarity: s.appearanceSimilarity ?? 0 }
      : byEntity;
  if (byAppearance === undefined) return undefined;
  const member = members.get(byAppearance.memberId);
  if (member === undefined || (s.unknownFace && member.hasFace)) return undefined;
  return { ...byAppearance, via: 'appearance' };
}

/**
 * A visit's people from its sightings: each sighting attributed on its own evidence (`attribute`), members with their
 * best match, and unknown people counted per frame, so a stranger next to a member is never hidden by them. Pure.
 */
export function visitPeople(visit: VisitSightings, memberThreshold: number): VisitPeople {
  const members = new Map<number, RecognisedMember>();
  const frames = new Map<string, { persons: number; unknown: number }>();
  const unknownEntities = new Set<string>();
  for (const s of visit.sightings) {
    const key = `${s.mediaFileId}/${s.frameIndex ?? 0}`;
    const frame = frames.get(key) ?? { persons: 0, unknown: 0 };
    frame.persons += 1;
    frames.set(key, frame);
    const who = attribute(s, visit.members, memberThreshold);
    const info = who === undefined ? undefined : visit.members.get(who.memberId);
    if (who === undefined || info === undefined) {
      frame.unknown += 1;
      if (s.entityId !== null) unknownEntities.add(s.entityId);
      continue;
    }
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
  let journey: VisitPeople['journey'] = null;
  for (const s of visit.sightings) {
    if (s.journey === null || s.journey.cameras.length < 2) continue;
    if (journey === null || s.journey.cameras.length > journey.cameras.length) journey = s.journey;
  }
  const counts = [...frames.values()];
  return {
    persons: Math.max(0, ...counts.map((f) => f.persons)),
    members: [...members.values()].sort((a, b) => b.similarity - a.similarity),
    unknown: Math.max(0, ...counts.map((f) => f.unknown)),
    unknownEntities: [...unknownEntities],
    entities: [...new Set(visit.sightings.flatMap((s) => (s.entityId === null ? [] : [s.entityId])))],
    journey,
  };
}
