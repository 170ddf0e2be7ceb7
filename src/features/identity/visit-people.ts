import type { JourneyStep, TrustLevel } from '../../storage/tables/identity.table.js';
import type { PersonSighting } from './identity.repository.js';

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

/**
 * A visit's people from its person sightings. A sighting counts as a member when it was recognised directly (face or
 * appearance), when its entity is a member's, or when another sighting of the same entity in the visit was
 * recognised (the same person seen from behind in the next frame). Everyone else is unknown: per frame, the person
 * detections not counted as a member, so a stranger beside a member is never hidden by them. Pure.
 */
export function visitPeople(sightings: readonly PersonSighting[]): VisitPeople {
  const memberOfEntity = new Map<string, number>();
  for (const s of sightings) {
    if (s.entityId === null) continue;
    const member = s.memberId ?? s.entityMemberId;
    if (member !== null && !memberOfEntity.has(s.entityId)) memberOfEntity.set(s.entityId, member);
  }
  const members = new Map<number, RecognisedMember>();
  for (const s of sightings) {
    if (s.memberId === null || s.memberName === null || s.trust === null || s.via === null) continue;
    const known = members.get(s.memberId);
    const zoneIds = [...new Set([...(known?.zoneIds ?? []), ...s.zoneIds])];
    if (known === undefined || (s.similarity ?? 0) > known.similarity) {
      members.set(s.memberId, {
        id: s.memberId,
        name: s.memberName,
        trust: s.trust,
        similarity: s.similarity ?? 0,
        via: s.via,
        zoneIds,
        schedule: s.memberSchedule,
      });
    } else known.zoneIds = zoneIds;
  }
  const frames = new Map<string, { persons: number; unknown: number }>();
  const unknownEntities = new Set<string>();
  for (const s of sightings) {
    const key = `${s.mediaFileId}/${s.frameIndex ?? 0}`;
    const frame = frames.get(key) ?? { persons: 0, unknown: 0 };
    frame.persons += 1;
    const member = s.memberId ?? (s.entityId === null ? undefined : memberOfEntity.get(s.entityId));
    if (member === undefined || member === null) {
      frame.unknown += 1;
      if (s.entityId !== null) unknownEntities.add(s.entityId);
    }
    frames.set(key, frame);
  }
  let journey: VisitPeople['journey'] = null;
  for (const s of sightings) {
    if (s.journey === null || s.journey.cameras.length < 2) continue;
    if (journey === null || s.journey.cameras.length > journey.cameras.length) journey = s.journey;
  }
  const counts = [...frames.values()];
  return {
    persons: Math.max(0, ...counts.map((f) => f.persons)),
    members: [...members.values()].sort((a, b) => b.similarity - a.similarity),
    unknown: Math.max(0, ...counts.map((f) => f.unknown)),
    unknownEntities: [...unknownEntities],
    entities: [...new Set(sightings.flatMap((s) => (s.entityId === null ? [] : [s.entityId])))],
    journey,
  };
}
