import { sql } from 'kysely';
import type { DbOrTx } from '../database.js';

/** The SQL of the system-status read model (`src/status/system-status.ts`); the rest comes from repositories. */

export interface CameraCounts {
  /** Cameras not deleted. */
  total: number;
  /** Of those, the ones that uploaded at or after `onlineSince`. */
  online: number;
}

export async function cameraCounts(db: DbOrTx, onlineSince: Date): Promise<CameraCounts> {
  const row = await db
    .selectFrom('cameras')
    .select([
      sql<number>`count(*)::int`.as('total'),
      sql<number>`(count(*) FILTER (WHERE last_seen_at >= ${onlineSince}))::int`.as('online'),
    ])
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), online: Number(row.online) };
}

/** Resolves once a trivial query round-trips (readiness). */
export async function pingDatabase(db: DbOrTx): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
