import type { Db, DbOrTx } from './database.js';
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

/**
 * Records the thumbnail of each detection, in one transaction; returns the files whose detection is gone (replaced
 * or removed meanwhile), which belong to nobody.
 */
export async function setThumbnailPaths(
  db: Db,
  thumbnails: readonly { detectionId: number; path: string }[],
): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    const orphans: string[] = [];
    for (const { detectionId, path } of thumbnails) {
      const updated = await tx
        .updateTable('detections')
        .set({ thumbnail_path: path })
        .where('id', '=', detectionId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) orphans.push(path);
    }
    return orphans;
  });
}
