import type { DbOrTx } from '../../storage/database.js';
import { memberCandidateDetections, sightingsOfDetections } from './identity.repository.js';
import { attributeAll, type PeopleThresholds } from './visit-people.js';

/** A member's sighting as Home Assistant shows it. */
export interface MemberSighting {
  memberId: number;
  name: string;
  cameraId: string;
  detectedAt: Date;
  via: 'face' | 'appearance';
  similarity: number | null;
}

/** Candidate detections judged per member: enough that a few vetoed sightings still leave the real last one. */
const CANDIDATES = 20;

/**
 * The newest sightings of members, judged as the analysis judges a visit (`attributeAll`: a face first, an
 * appearance match unless the face says otherwise, tracks): a stranger the analysis called unknown never makes a
 * member "present". Newest first.
 */
async function judged(db: DbOrTx, ids: number[], thresholds: PeopleThresholds): Promise<MemberSighting[]> {
  const visit = await sightingsOfDetections(db, ids);
  const out: MemberSighting[] = [];
  for (const [s, who] of attributeAll(visit, thresholds)) {
    const member = visit.members.get(who.memberId);
    if (member === undefined) continue;
    out.push({
      memberId: who.memberId,
      name: member.name,
      cameraId: s.cameraId,
      detectedAt: s.detectedAt,
      via: who.via,
      similarity: who.similarity,
    });
  }
  return out.sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime());
}

/** Each member's newest sighting (members never seen are absent). */
export async function lastMemberSightings(
  db: DbOrTx,
  memberIds: readonly number[],
  thresholds: PeopleThresholds,
): Promise<Map<number, MemberSighting>> {
  const out = new Map<number, MemberSighting>();
  for (const memberId of memberIds) {
    const ids = await memberCandidateDetections(db, { memberId, limit: CANDIDATES });
    const newest = (await judged(db, ids, thresholds)).find((s) => s.memberId === memberId);
    if (newest !== undefined) out.set(memberId, newest);
  }
  return out;
}

/** The newest sighting of any member on `cameraId`, or undefined. */
export async function lastRecognizedOnCamera(
  db: DbOrTx,
  cameraId: string,
  thresholds: PeopleThresholds,
): Promise<MemberSighting | undefined> {
  const ids = await memberCandidateDetections(db, { cameraId, limit: CANDIDATES });
  return (await judged(db, ids, thresholds))[0];
}
