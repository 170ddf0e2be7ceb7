import { sql } from 'kysely';
import type { DbOrTx } from './database.js';

/**
 * Reads of `media_rejections`: the uploads ingest refused before they got a `media_files` row (unsupported,
 * corrupt, too large, outside the media root …). `media-file.repository.ts` records them.
 */

/** How many refused uploads are on record, per error code, most frequent first. */
export async function countRejectionsByCode(db: DbOrTx): Promise<{ code: string; n: number }[]> {
  const rows = await db
    .selectFrom('media_rejections')
    .select(['error_code', sql<number>`count(*)::int`.as('n')])
    .groupBy('error_code')
    .orderBy('n', 'desc')
    .orderBy('error_code')
    .execute();
  return rows.map((row) => ({ code: row.error_code, n: row.n }));
}
