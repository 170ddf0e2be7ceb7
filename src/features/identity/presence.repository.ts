import type { DbOrTx } from '../../storage/database.js';
import type { MemberRole, TrustLevel } from '../../storage/tables/identity.table.js';

/**
 * What Home Assistant reads of the household and its visitors besides the sightings (`presence.ts`): the members,
 * the unnamed people seen since a time, and the stranger notices.
 */

/** A household member as Home Assistant names its device. */
export interface MemberSummary {
  id: number;
  name: string;
  role: MemberRole;
  trust: TrustLevel;
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
