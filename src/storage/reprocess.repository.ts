import { sql } from 'kysely';
import type { Db, DbOrTx } from './database.js';
import { clearEnrichmentRuns } from './enrichment.repository.js';
import type { MediaFileRow } from './tables/media-file.table.js';

/** The rows `hsi reprocess` reads and resets (the operator command is `src/ops/reprocess.ts`). */

/** A camera's media files, or those under a folder of the media root (`''`: all of them). */
export type MediaScope = { kind: 'camera'; cameraId: string } | { kind: 'folder'; prefix: string };

function inScope(db: DbOrTx, scope: MediaScope) {
  const q = db.selectFrom('media_files');
  if (scope.kind === 'camera') return q.where('camera_id', '=', scope.cameraId);
  if (scope.prefix === '') return q;
  return q.where(sql<boolean>`starts_with(path, ${`${scope.prefix}/`})`);
}

/** How many media files the scope has, and the highest id (0 for none). */
export async function scopeSize(db: DbOrTx, scope: MediaScope): Promise<{ count: number; maxId: number }> {
  const row = await inScope(db, scope)
    .select([sql<number>`count(*)::int`.as('n'), sql<number | null>`max(id)`.as('max')])
    .executeTakeFirstOrThrow();
  return { count: row.n, maxId: Number(row.max ?? 0) };
}

/** The scope's media files with `after < id <= upTo`, by id, at most `limit`. */
export function listScope(
  db: DbOrTx,
  scope: MediaScope,
  window: { after: number; upTo: number; limit: number },
): Promise<MediaFileRow[]> {
  return inScope(db, scope)
    .selectAll()
    .where('id', '>', window.after)
    .where('id', '<=', window.upTo)
    .orderBy('id')
    .limit(window.limit)
    .execute();
}

export interface MediaReset {
  /** The row, back to `queued`. */
  row: MediaFileRow;
  /** The deleted detections' thumbnails. */
  thumbnails: (string | null)[];
  /** Events left with no detection, soft-deleted. */
  eventsReplaced: number;
}

/**
 * Resets one row inside a transaction: detections deleted (their events keep the links left), what the frame
 * processors did forgotten, row back to `queued`.
 * Returns the row and the deleted detections' thumbnails, or undefined when the row is busy now (queued, processing).
 */
async function resetRow(tx: DbOrTx, id: number): Promise<MediaReset | undefined> {
  const locked = await tx
    .selectFrom('media_files')
    .select('status')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (locked === undefined || locked.status === 'queued' || locked.status === 'processing') return undefined;
  const linked = await tx
    .selectFrom('event_detections as ed')
    .innerJoin('detections as d', 'd.id', 'ed.detection_id')
    .select('ed.event_id')
    .distinct()
    .where('d.media_file_id', '=', id)
    .execute();
  const removed = await tx
    .deleteFrom('detections')
    .where('media_file_id', '=', id)
    .returning('thumbnail_path')
    .execute();
  // Its new detections are enriched again.
  await clearEnrichmentRuns(tx, id);
  let eventsReplaced = 0;
  if (linked.length > 0) {
    const ids = linked.map((l) => l.event_id);
    await tx
      .updateTable('events')
      .set((eb) => ({
        detection_count: eb
          .selectFrom('event_detections as ed')
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef('ed.event_id', '=', 'events.id'),
      }))
      .where('id', 'in', ids)
      .execute();
    // Superseded: nothing of it is left; its files' new detections make the new events.
    const replaced = await tx
      .updateTable('events')
      .set({ deleted_at: sql<Date>`now()` })
      .where('id', 'in', ids)
      .where('detection_count', '=', 0)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    eventsReplaced = Number(replaced.numUpdatedRows);
  }
  const requeued = await tx
    .updateTable('media_files')
    .set({ status: 'queued', attempts: 0, error: null, error_code: null, detection_count: 0, processed_at: null })
    .set({ updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row: requeued, thumbnails: removed.map((r) => r.thumbnail_path), eventsReplaced };
}

/**
 * Resets one media file for reprocessing (undefined: busy now) and runs `then` in the same transaction with the
 * outcome (to record progress and queue the job: if that fails, nothing changed).
 */
export function resetMediaForReprocess<T>(
  db: Db,
  id: number,
  then: (tx: DbOrTx, reset: MediaReset | undefined) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (tx) => then(tx, await resetRow(tx, id)));
}
