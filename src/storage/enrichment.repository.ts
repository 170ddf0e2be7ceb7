import { sql } from 'kysely';
import type { Db, DbOrTx } from './database.js';
import type { DetectionRow } from './tables/detection.table.js';
import type { EnrichmentRunRow, NewEnrichmentRun } from './tables/enrichment.table.js';

/** The processors that have already run on a media file, and how they did. */
export function enrichmentRunsOf(db: DbOrTx, mediaFileId: number): Promise<EnrichmentRunRow[]> {
  return db
    .selectFrom('enrichment_runs')
    .selectAll()
    .where('media_file_id', '=', mediaFileId)
    .orderBy('processor')
    .execute();
}

/** Records how a processor did on a file (a re-run after `hsi reprocess` replaces the row). */
export async function recordEnrichmentRun(db: DbOrTx, run: NewEnrichmentRun): Promise<void> {
  await db
    .insertInto('enrichment_runs')
    .values(run)
    .onConflict((oc) =>
      oc.columns(['media_file_id', 'processor']).doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        error: eb.ref('excluded.error'),
        results: eb.ref('excluded.results'),
        duration_ms: eb.ref('excluded.duration_ms'),
        created_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/**
 * A processor's results (`persist`, given the transaction) and its run row, in one transaction: either both are
 * stored or neither.
 */
export async function storeEnrichmentRun(
  db: Db,
  run: NewEnrichmentRun,
  persist: (tx: DbOrTx) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await persist(tx);
    await recordEnrichmentRun(tx, run);
  });
}

/** Forgets what ran on a file: its detections were replaced (reprocessing), so it is enriched again. */
export async function clearEnrichmentRuns(db: DbOrTx, mediaFileId: number): Promise<void> {
  await db.deleteFrom('enrichment_runs').where('media_file_id', '=', mediaFileId).execute();
}

/** A file's detections, in id order. */
export function detectionsOfMedia(db: DbOrTx, mediaFileId: number): Promise<DetectionRow[]> {
  return db.selectFrom('detections').selectAll().where('media_file_id', '=', mediaFileId).orderBy('id').execute();
}

/** Files detected within this long are enriched (late, when their job was lost); older ones are not. */
export const ENRICHMENT_WINDOW_MS = 60 * 60_000;

/**
 * Files detected (status done, at least one detection) within the last `ENRICHMENT_WINDOW_MS` and at least
 * `graceMs` before `now` that lack a run of one of `processors`: waiting for their enrichment, or their job was lost
 * (a crash between the detections' commit and the queue, Redis restarted). Oldest first, at most `limit`.
 */
export async function mediaAwaitingEnrichment(
  db: DbOrTx,
  processors: readonly string[],
  now: number,
  graceMs = 0,
  limit = 500,
): Promise<{ id: number; cameraId: string }[]> {
  if (processors.length === 0) return [];
  const window = { processedAfter: new Date(now - ENRICHMENT_WINDOW_MS), processedBefore: new Date(now - graceMs + 1) };
  const rows = await db
    .selectFrom('media_files as m')
    .select(['m.id', 'm.camera_id as cameraId'])
    .where('m.status', '=', 'done')
    .where('m.detection_count', '>', 0)
    .where('m.processed_at', '>=', window.processedAfter)
    .where('m.processed_at', '<', window.processedBefore)
    .where(({ exists, not, selectFrom }) =>
      not(
        exists(
          selectFrom('enrichment_runs as r')
            .select('r.media_file_id')
            .whereRef('r.media_file_id', '=', 'm.id')
            .where('r.processor', 'in', [...processors])
            .having(sql<number>`count(*)`, '=', processors.length)
            .groupBy('r.media_file_id'),
        ),
      ),
    )
    .orderBy('m.id')
    .limit(limit)
    .execute();
  return rows;
}

/**
 * Adds a processor's result to a detection's `enrichment_data` under the processor's name, keeping what other
 * processors stored there.
 */
export async function mergeEnrichmentData(db: DbOrTx, detectionId: number, key: string, value: unknown): Promise<void> {
  const patch = JSON.stringify({ [key]: value });
  await db
    .updateTable('detections')
    .set({ enrichment_data: sql`coalesce(enrichment_data, '{}'::jsonb) || ${patch}::jsonb` })
    .where('id', '=', detectionId)
    .execute();
}
