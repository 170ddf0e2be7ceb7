import type { DbOrTx } from './database.js';
import type { DetectionRow, NewDetection } from './tables/detection.table.js';

/**
 * Replaces every detection of one media file: re-running a file never duplicates. Call inside the transaction that
 * also marks the file done. With rows, the delete rides in the insert as a data-modifying CTE: one statement instead
 * of two on the hot path (on PGlite each statement costs the main thread about half a millisecond).
 */
export async function replaceDetections(
  db: DbOrTx,
  mediaFileId: number,
  rows: readonly NewDetection[],
): Promise<DetectionRow[]> {
  if (rows.length === 0) {
    await db.deleteFrom('detections').where('media_file_id', '=', mediaFileId).execute();
    return [];
  }
  return db
    .with('replaced', (qb) => qb.deleteFrom('detections').where('media_file_id', '=', mediaFileId))
    .insertInto('detections')
    .values(rows as NewDetection[])
    .returningAll()
    .execute();
}

export interface DetectionQuery {
  cameraId?: string;
  mediaFileId?: number;
  limit?: number;
}

export function listDetections(db: DbOrTx, query: DetectionQuery = {}): Promise<DetectionRow[]> {
  let q = db.selectFrom('detections').selectAll();
  if (query.cameraId !== undefined) q = q.where('camera_id', '=', query.cameraId);
  if (query.mediaFileId !== undefined) q = q.where('media_file_id', '=', query.mediaFileId);
  return q
    .orderBy('detected_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit ?? 100)
    .execute();
}
