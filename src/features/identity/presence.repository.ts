import type { DbOrTx } from '../../storage/database.js';
import type { MemberRole, TrustLevel } from '../../storage/tables/identity.table.js';

/**
 * What Home Assistant shows of the household and its visitors: the members, when and where each was last seen
 * (by appearance: `reid_embeddings.member_id`, a direct match at the member threshold; by face: a face that
 * passed the quality gate and matched a known person linked to the member), a camera's last recognised member,
 * and the unnamed people seen since a time.
 */

/** A household member as Home Assistant names its device. */
export interface MemberSummary {
  id: number;
  name: string;
  role: MemberRole;
  trust: TrustLevel;
}

/** The newest sighting of a member (or of anyone recognised on a camera). */
export interface MemberSighting {
  memberId: number;
  cameraId: string;
  detectedAt: Date;
  via: 'face' | 'appearance';
  similarity: number | null;
}

/** Every household member, in id order. */
export async function listMemberSummaries(db: DbOrTx): Promise<MemberSummary[]> {
  const rows = await db
    .selectFrom('household_members')
    .select(['id', 'name', 'role', 'trust_level'])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role, trust: r.trust_level }));
}

/** The later of two sightings; a face wins a tie (the stronger evidence). */
function later(a: MemberSighting | undefined, b: MemberSighting): MemberSighting {
  if (a === undefined) return b;
  const diff = b.detectedAt.getTime() - a.detectedAt.getTime();
  return diff > 0 || (diff === 0 && b.via === 'face') ? b : a;
}

/**
 * Appearance sightings that matched a member directly (at the member threshold), newest first; per member: the
 * newest each. A sighting that only joined a member's entity is not counted: presence says a member is home, so it
 * takes the same direct evidence the household match does.
 */
function appearanceSightings(db: DbOrTx, options: { cameraId?: string; perMember?: boolean }) {
  let query = db
    .selectFrom('reid_embeddings as r')
    .select(['r.member_id', 'r.camera_id', 'r.detected_at', 'r.member_similarity'])
    .where('r.member_id', 'is not', null);
  if (options.cameraId !== undefined) query = query.where('r.camera_id', '=', options.cameraId);
  if (options.perMember === true) query = query.distinctOn('r.member_id').orderBy('r.member_id');
  return query.orderBy('r.detected_at', 'desc');
}

/** Face sightings of a known person linked to a member, newest first. */
function faceSightings(db: DbOrTx, options: { cameraId?: string; perMember?: boolean }) {
  let query = db
    .selectFrom('face_detection_events as f')
    .innerJoin('known_persons as k', 'k.id', 'f.person_id')
    .select(['k.member_id', 'f.camera_id', 'f.detected_at', 'f.similarity'])
    .where('k.member_id', 'is not', null)
    .where('f.rejected', 'is', null);
  if (options.cameraId !== undefined) query = query.where('f.camera_id', '=', options.cameraId);
  if (options.perMember === true) query = query.distinctOn('k.member_id').orderBy('k.member_id');
  return query.orderBy('f.detected_at', 'desc');
}

/** Each member's newest sighting, by appearance or by face (members never seen are absent). */
export async function lastMemberSightings(db: DbOrTx): Promise<Map<number, MemberSighting>> {
  const [appearance, face] = await Promise.all([
    appearanceSightings(db, { perMember: true }).execute(),
    faceSightings(db, { perMember: true }).execute(),
  ]);
  const newest = new Map<number, MemberSighting>();
  const offer = (s: MemberSighting) => newest.set(s.memberId, later(newest.get(s.memberId), s));
  for (const r of appearance) {
    if (r.member_id === null) continue;
    offer({
      memberId: r.member_id,
      cameraId: r.camera_id,
      detectedAt: r.detected_at,
      via: 'appearance',
      similarity: r.member_similarity,
    });
  }
  for (const r of face) {
    if (r.member_id === null) continue;
    offer({
      memberId: r.member_id,
      cameraId: r.camera_id,
      detectedAt: r.detected_at,
      via: 'face',
      similarity: r.similarity,
    });
  }
  return newest;
}

/** The newest sighting of any member on `cameraId` (with the member's name), or undefined. */
export async function lastRecognizedOnCamera(
  db: DbOrTx,
  cameraId: string,
): Promise<(MemberSighting & { name: string }) | undefined> {
  const [appearance, face] = await Promise.all([
    appearanceSightings(db, { cameraId }).limit(1).executeTakeFirst(),
    faceSightings(db, { cameraId }).limit(1).executeTakeFirst(),
  ]);
  let newest: MemberSighting | undefined;
  if (appearance?.member_id != null) {
    newest = {
      memberId: appearance.member_id,
      cameraId,
      detectedAt: appearance.detected_at,
      via: 'appearance',
      similarity: appearance.member_similarity,
    };
  }
  if (face?.member_id != null) {
    newest = later(newest, {
      memberId: face.member_id,
      cameraId,
      detectedAt: face.detected_at,
      via: 'face',
      similarity: face.similarity,
    });
  }
  if (newest === undefined) return undefined;
  const member = await db
    .selectFrom('household_members')
    .select('name')
    .where('id', '=', newest.memberId)
    .executeTakeFirst();
  return member === undefined ? undefined : { ...newest, name: member.name };
}

/** Distinct people (entities) seen at or after `since` that never matched a household member. */
export async function countVisitorsSince(db: DbOrTx, since: Date): Promise<number> {
  const row = await db
    .selectFrom('reid_embeddings as r')
    .innerJoin('entities as e', 'e.id', 'r.entity_id')
    .select((eb) => eb.fn.count<string>('r.entity_id').distinct().as('visitors'))
    .where('r.detected_at', '>=', since)
    .where('e.member_id', 'is', null)
    .where('r.member_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.visitors);
}

/**
 * Claims the stranger notice of a security event: true the first time for that event (the caller fires the Home
 * Assistant event), false ever after, whichever process or restart asks.
 */
export async function claimStrangerNotice(db: DbOrTx, eventId: number): Promise<boolean> {
  const row = await db
    .insertInto('stranger_notices')
    .values({ event_id: eventId })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return row !== undefined;
}
