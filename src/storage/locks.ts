import { sql } from 'kysely';
import type { DbOrTx } from './database.js';

/**
 * Serialises every write of identity state (entities, journeys, face groups and galleries, a member's removal,
 * retention's identity step) for the rest of the transaction: read-match-write cycles of two enrichment workers,
 * of a worker and the API, or of a worker and retention never interleave. A transaction-scoped advisory lock
 * (PostgreSQL and PGlite); outside a transaction it would be released at once, so callers hold one.
 */
export async function lockIdentityWrites(tx: DbOrTx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('hsi:identity'))`.execute(tx);
}
